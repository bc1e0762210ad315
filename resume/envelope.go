package resume

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sealkit/sealkit/seal"
)

// stateVersion is the version of the blob format (PROTOCOL.md, section
// 3.4). Version 1 sealed the envelope as Erlang terms; a version 1 blob
// opens as StatusInvalid and is cleared.
const stateVersion = 2

// envelope is the JSON document a blob seals, as an Erlang binary: the
// format version, the binding value (empty without Options.Bind) and the
// application state. The binding sits inside the sealed plaintext, so a
// blob copied to another session opens but is refused.
type envelope struct {
	V     int             `json:"v"`
	Bind  string          `json:"bind"`
	State json.RawMessage `json:"state"`
}

// sealState seals s for binding bind under Options.Key, valid for
// Options.MaxAge.
func (h *Handler[S]) sealState(s S, bind string) (string, error) {
	state, err := json.Marshal(s)
	if err != nil {
		return "", stateError(s, err)
	}
	doc, err := json.Marshal(envelope{V: stateVersion, Bind: bind, State: state})
	if err != nil {
		return "", fmt.Errorf("resume: encode state: %w", err)
	}
	tok, err := h.sealer.Encrypt(h.opts.Key, doc, seal.MaxAge(h.opts.MaxAge))
	if err != nil {
		return "", fmt.Errorf("resume: seal state: %w", err)
	}
	return tok, nil
}

// Seal returns the blob [Conn.Store] would send a client for s, sealed as
// JSON under Options.Key and valid for Options.MaxAge, for a client that
// gets it another way: in a link, say, whose page hands it back as its
// blob (connectResume's options.storage). Whoever holds it can resume s:
// treat it as a bearer credential. It carries no binding, so a Handler
// with Options.Bind refuses with an error wrapping ErrUnbound (such a
// blob would open in no session).
func (h *Handler[S]) Seal(s S) (string, error) {
	if h.opts.Bind != nil {
		return "", fmt.Errorf("%w: Seal makes blobs for no session, and Options.Bind is set", ErrUnbound)
	}
	return h.sealState(s, "")
}

// openState opens a blob handed back by a client whose binding is bind.
func (h *Handler[S]) openState(token string, present bool, bind string) Result[S] {
	if !present || token == "" {
		return Result[S]{Status: StatusFresh}
	}
	var doc []byte
	err := h.sealer.Decrypt(h.opts.Key, token, &doc)
	switch {
	case err == nil:
		return h.decodeState(doc, bind)
	case errors.Is(err, seal.ErrExpired):
		return Result[S]{Status: StatusExpired, Err: err}
	case errors.Is(err, seal.ErrMissing):
		return Result[S]{Status: StatusFresh}
	case errors.Is(err, seal.ErrInvalid):
		return Result[S]{Status: StatusInvalid, Err: err}
	default:
		return invalidState[S](err)
	}
}

// decodeState decodes the envelope of a genuine blob, checks its binding
// and asks the App's Checker, if any.
func (h *Handler[S]) decodeState(doc []byte, bind string) Result[S] {
	var env envelope
	if err := json.Unmarshal(doc, &env); err != nil {
		return invalidState[S](errors.New("blob is not a JSON envelope"))
	}
	if env.V != stateVersion {
		return invalidState[S](fmt.Errorf("blob format %d, want %d", env.V, stateVersion))
	}
	if subtle.ConstantTimeCompare([]byte(env.Bind), []byte(bind)) != 1 {
		return Result[S]{Status: StatusUnbound, Err: ErrUnbound}
	}
	var s S
	if err := json.Unmarshal(env.State, &s); err != nil {
		// A genuine blob whose state does not decode into S (sealed by
		// another version of the App) is as useless as a forged one. The
		// error names the Go type at fault, never the state's content.
		return invalidState[S](stateDecodeError(err))
	}
	if c, ok := h.app.(Checker[S]); ok {
		if err := c.Check(s); err != nil {
			return invalidState[S](fmt.Errorf("refused by the application: %w", err))
		}
	}
	return Result[S]{Status: StatusResumed, State: s}
}

// invalidState is the Result of a blob that opened but cannot be used.
func invalidState[S any](err error) Result[S] {
	return Result[S]{Status: StatusInvalid, Err: fmt.Errorf("%w: %w", seal.ErrInvalid, err)}
}

// stateDecodeError keeps the type information of a JSON decoding error and
// drops anything that could quote the state.
func stateDecodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("state does not decode: field %q does not fit Go type %v", te.Field, te.Type)
	}
	return errors.New("state does not decode")
}
