package flylaunch

// A visitor's own Fly token: listing the organizations it reaches
// (Organizations) and confining a copy of it to one app for a while
// (AttenuateToApp), as `fly tokens attenuate` does.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/tokens"
	"github.com/superfly/macaroon"
	"github.com/superfly/macaroon/flyio"
	"github.com/superfly/macaroon/resset"

	"github.com/sealkit/sealkit/flylaunch/internal/msgpack"
)

var (
	// ErrTokenRefused: Fly refused a token, or it reaches no
	// organization: bad, truncated, revoked, expired, or confined to
	// something else. The error never holds the token.
	ErrTokenRefused = errors.New("flylaunch: Fly refused the token")
	// ErrNotMacaroon: [AttenuateToApp] was given a token that holds no Fly
	// macaroon (an OAuth or personal access token, or not a Fly token):
	// it cannot be narrowed. The error never holds the token.
	ErrNotMacaroon = errors.New("flylaunch: not a Fly macaroon token")
	// ErrOrgNotReached: [Launcher.AsToken] was asked for an organization
	// the token does not reach.
	ErrOrgNotReached = errors.New("flylaunch: the token does not reach that organization")
)

// AsToken returns the Launcher that deploys with token, a visitor's own
// say, after asking Fly which organizations it reaches ([Organizations]):
// a token that is not well formed, that Fly refuses, or that reaches no
// organization is an error matching [ErrTokenRefused], and org, if set,
// must be one it reaches ([ErrOrgNotReached]). So a launch with a token
// Fly would refuse creates nothing. (A token narrowed to an app lists no
// organization: give that one to [NewClient] and [Launcher.As].) transport
// is as for NewClient. No error holds the token.
func (l *Launcher) AsToken(ctx context.Context, token, org string, transport http.RoundTripper) (*Launcher, error) {
	orgs, err := Organizations(ctx, token, transport)
	if err != nil {
		return nil, err
	}
	if org != "" && !slices.ContainsFunc(orgs, func(o Org) bool { return o.Slug == org }) {
		return nil, ErrOrgNotReached
	}
	client, err := NewClient(ctx, token, transport)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenRefused, err)
	}
	return l.As(client), nil
}

// maxTokenLen bounds a token flylaunch decodes: a Fly token is some 700
// bytes a macaroon (superfly/flyctl#5196 measured 691).
const maxTokenLen = 16 << 10

// graphQLBase is Fly's GraphQL API; fly-go posts to graphQLBase+"/graphql".
const graphQLBase = "https://api.fly.io"

// Org is an organization a token can deploy to, as Fly's GraphQL API
// lists it.
type Org struct {
	// Slug names the org in a [Spec] ("personal" for the personal one).
	Slug string
	// Name is the org's display name.
	Name string
	// Personal is true for the user's personal organization.
	Personal bool
}

// Organizations asks Fly's GraphQL API (fly-go's GetOrganizations, at
// https://api.fly.io/graphql, through transport: nil means
// http.DefaultTransport, flysim.Transport reaches a simulator) which
// organizations token reaches, sorted by slug. A token Fly refuses, or
// one that reaches no organization, is an error matching
// [ErrTokenRefused]. No error holds the token.
func Organizations(ctx context.Context, token string, transport http.RoundTripper) ([]Org, error) {
	if strings.TrimSpace(token) == "" || !wellFormedMacaroons(token) {
		return nil, fmt.Errorf("%w: not a Fly token", ErrTokenRefused)
	}
	if transport == nil {
		transport = http.DefaultTransport
	}
	seen := &statusSeen{next: transport}
	debug, region := false, ""
	c := fly.NewClientFromOptions(fly.ClientOptions{
		Tokens:  tokens.Parse(token),
		BaseURL: graphQLBase,
		// Set, so that fly-go reads no FLY_FORCE_* environment.
		EnableDebugTrace: &debug,
		FlyForceRegion:   &region,
		Transport:        &fly.Transport{UnderlyingTransport: seen, UserAgent: "sealkit-flylaunch"},
	})
	nodes, err := c.GetOrganizations(ctx)
	if st := seen.status(); st == http.StatusUnauthorized || st == http.StatusForbidden {
		return nil, fmt.Errorf("%w (HTTP %d)", ErrTokenRefused, st)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("flylaunch: list organizations: %w", ctx.Err())
		}
		inner := cmp.Or(errors.Unwrap(err), err) // fly-go's own text repeats the query
		if refusedText(inner.Error()) {
			return nil, fmt.Errorf("%w: Fly says it is not authorized", ErrTokenRefused)
		}
		return nil, fmt.Errorf("flylaunch: list organizations: %w", inner)
	}
	orgs := make([]Org, 0, len(nodes))
	for _, n := range nodes {
		if n.Slug == "" {
			continue
		}
		orgs = append(orgs, Org{Slug: n.Slug, Name: n.Name, Personal: n.Type == string(fly.OrganizationTypePersonal)})
	}
	if len(orgs) == 0 {
		return nil, fmt.Errorf("%w: it reaches no organization", ErrTokenRefused)
	}
	sort.Slice(orgs, func(i, j int) bool { return orgs[i].Slug < orgs[j].Slug })
	return orgs, nil
}

// wellFormedMacaroons reports whether every macaroon in token (if any)
// is MessagePack whose lengths fit its bytes (see msgpack.Bounded): fly-go's
// Machines API client decodes the first one on every request
// (flaps.Client.getCaveatNames), so a crafted token must be refused
// before a client is built with it.
func wellFormedMacaroons(token string) bool {
	if len(token) > maxTokenLen {
		return false
	}
	macs := tokens.Parse(token).GetMacaroonTokens()
	if len(macs) == 0 {
		return true
	}
	raws, err := macaroon.Parse(strings.Join(macs, ","))
	if err != nil {
		return true // fly-go's own Parse fails too and decodes nothing
	}
	for _, raw := range raws {
		if !msgpack.Bounded(raw) {
			return false
		}
	}
	return true
}

// refusedText reports a GraphQL error saying the token is not good
// enough.
func refusedText(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "authenticated") || strings.Contains(s, "unauthorized") || strings.Contains(s, "not authorized")
}

// statusSeen remembers the last HTTP status its transport got: fly-go's
// GraphQL client reports a non-200 answer only as text.
type statusSeen struct {
	next http.RoundTripper
	mu   sync.Mutex
	last int
}

func (s *statusSeen) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err == nil {
		s.mu.Lock()
		s.last = resp.StatusCode
		s.mu.Unlock()
	}
	return resp, err
}

func (s *statusSeen) status() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// AttenuateToApp returns a copy of a Fly macaroon token narrowed, offline,
// as `fly tokens attenuate` narrows one: every permission macaroon in it
// gets Fly's Apps caveat naming only the app whose numeric ID is appID
// (flaps.App.InternalNumericID, kept in [Record.AppNumericID]: a later
// app of the same name has another) and a ValidityWindow caveat ending at
// notAfter. Discharge tokens are kept; OAuth tokens beside the macaroons
// are dropped, as flyctl drops them, since they could not be narrowed.
// Caveats only narrow: the copy can do nothing the token could not, and
// nothing outside that app or after notAfter. The result is in Fly's
// format, "FlyV1 fm2_...[,fm2_...]".
//
// A token with no Fly permission macaroon is an error matching
// [ErrNotMacaroon]; no error holds the token.
func AttenuateToApp(token string, appID int64, notAfter time.Time) (string, error) {
	if appID <= 0 {
		return "", &SpecError{Field: "appID", Reason: "must be the app's positive numeric ID"}
	}
	if notAfter.IsZero() {
		return "", &SpecError{Field: "notAfter", Reason: "is required"}
	}
	if len(token) > maxTokenLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrNotMacaroon, maxTokenLen)
	}
	macs := tokens.Parse(token).GetMacaroonTokens()
	if len(macs) == 0 {
		return "", ErrNotMacaroon
	}
	raws, err := macaroon.Parse(strings.Join(macs, ","))
	if err != nil {
		return "", fmt.Errorf("%w: malformed macaroon", ErrNotMacaroon)
	}
	for _, raw := range raws {
		if !msgpack.Bounded(raw) {
			return "", fmt.Errorf("%w: malformed macaroon", ErrNotMacaroon)
		}
	}
	perms, _, _, discharges, err := macaroon.FindPermissionAndDischargeTokens(raws, flyio.LocationPermission)
	if err != nil || len(perms) == 0 {
		return "", fmt.Errorf("%w: no permission macaroon", ErrNotMacaroon)
	}
	caveats := []macaroon.Caveat{
		&flyio.Apps{Apps: resset.New(resset.ActionAll, uint64(appID))},
		&macaroon.ValidityWindow{NotBefore: 0, NotAfter: notAfter.Unix()},
	}
	out := make([][]byte, 0, len(perms)+len(discharges))
	for _, m := range perms {
		if err := m.Add(caveats...); err != nil {
			return "", fmt.Errorf("%w: cannot add caveats", ErrNotMacaroon)
		}
		b, err := m.Encode()
		if err != nil {
			return "", fmt.Errorf("%w: cannot encode", ErrNotMacaroon)
		}
		out = append(out, b)
	}
	return macaroon.ToAuthorizationHeader(append(out, discharges...)...), nil
}
