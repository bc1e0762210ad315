package resume

import (
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/sealkit/sealkit/seal"
)

// envelope is what a blob seals: the application state and the binding
// value (empty without Options.Bind). The binding sits inside the sealed
// plaintext, so a blob copied to another session opens but is refused.
type envelope[S any] struct {
	State S      `etf:"state" json:"state"`
	Bind  string `etf:"bind" json:"bind"`
}

// sealState seals s for binding bind under Options.Key. opts come after
// the default max age, so a caller's seal.MaxAge wins.
func (h *Handler[S]) sealState(s S, bind string, opts []seal.TokenOption) (string, error) {
	all := make([]seal.TokenOption, 0, len(opts)+1)
	all = append(all, seal.MaxAge(h.opts.MaxAge))
	all = append(all, opts...)
	tok, err := h.sealer.Encrypt(h.opts.Key, envelope[S]{State: s, Bind: bind}, all...)
	if err != nil {
		return "", fmt.Errorf("resume: seal state: %w", err)
	}
	return tok, nil
}

// openState opens a blob handed back by a client whose binding is bind.
func (h *Handler[S]) openState(token string, present bool, bind string) Result[S] {
	if !present || token == "" {
		return Result[S]{Status: StatusFresh}
	}
	var env envelope[S]
	err := h.sealer.Decrypt(h.opts.Key, token, &env)
	switch {
	case err == nil && subtle.ConstantTimeCompare([]byte(env.Bind), []byte(bind)) != 1:
		return Result[S]{Status: StatusUnbound, Err: ErrUnbound}
	case err == nil:
		if c, ok := h.app.(Checker[S]); ok {
			if err := c.Check(env.State); err != nil {
				return Result[S]{Status: StatusInvalid, Err: fmt.Errorf("%w: refused by the application: %w", seal.ErrInvalid, err)}
			}
		}
		return Result[S]{Status: StatusResumed, State: env.State}
	case errors.Is(err, seal.ErrExpired):
		return Result[S]{Status: StatusExpired, Err: err}
	case errors.Is(err, seal.ErrMissing):
		return Result[S]{Status: StatusFresh}
	case errors.Is(err, seal.ErrInvalid):
		return Result[S]{Status: StatusInvalid, Err: err}
	default:
		// A genuine token whose data does not decode into S is as useless
		// as a forged one.
		return Result[S]{Status: StatusInvalid, Err: fmt.Errorf("%w: %w", seal.ErrInvalid, err)}
	}
}
