package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sealkit/sealkit/seal"
)

// ticketSalt is the seal salt of client tickets.
const ticketSalt = "launcher client ticket"

// ticketMaxAge is how long a page's ticket may be used to launch.
const ticketMaxAge = 12 * time.Hour

// errTicket reports a launch request without a valid client ticket.
var errTicket = errors.New("this page is too old or was altered: reload it to launch")

// tickets vouch for the address a page was served to. The resume protocol
// hands the application a connection, not its HTTP request, so the page
// carries a signed ticket naming the client address the server saw, and
// sends it with its launch; the launch rate limit is keyed by that address.
// Any instance with the same key base accepts any instance's tickets.
type tickets struct {
	sealer *seal.Sealer
	// trustForwarded takes the client address from X-Forwarded-For (see
	// clientAddr), for instances behind one trusted reverse proxy.
	trustForwarded bool
}

// issue returns a ticket for the client of r.
func (t tickets) issue(r *http.Request) (string, error) {
	return t.sealer.Sign(ticketSalt, clientAddr(r, t.trustForwarded).String(), seal.MaxAge(ticketMaxAge))
}

// client returns the client address a ticket vouches for.
func (t tickets) client(ticket string) (string, error) {
	var addr string
	if err := t.sealer.Verify(ticketSalt, ticket, &addr); err != nil {
		return "", fmt.Errorf("%w (%w)", errTicket, err)
	}
	return addr, nil
}
