package flysim

// Multi-tenant tokens: with Options.Tenants set, flysim mints Fly's
// macaroon tokens (github.com/superfly/macaroon, the format flyctl's
// `fly tokens create org` prints: "FlyV1 fm2_<base64 msgpack>") and
// verifies every request's token and caveats with the library and its
// flyio caveats, as Fly's API does.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/superfly/macaroon"
	"github.com/superfly/macaroon/flyio"
	"github.com/superfly/macaroon/resset"

	"github.com/sealkit/sealkit/flylaunch/internal/msgpack"
)

// ErrUnknownTenant reports a tenant name [Options.Tenants] does not list.
var ErrUnknownTenant = errors.New("flysim: unknown tenant")

// Tenant is one holder of Fly tokens: a user or an organization's token,
// reaching the organizations Orgs names (slugs; [PersonalOrgRawSlug] means
// [PersonalOrg]). Organization slugs are one namespace for the whole
// simulator: two tenants naming one org reach the same apps.
type Tenant struct {
	// Name identifies the tenant to [Server.Token] and [Server.Revoke]:
	// lowercase letters, digits and dashes.
	Name string
	// Orgs are the organizations the tenant's token reaches. None is
	// allowed: such a token authenticates but can do nothing, and
	// GraphQL organizations lists none.
	Orgs []string
}

// tokenRefusal is Fly's 401 body for a token it cannot verify (a
// truncated, tampered, revoked or foreign token), as reported in
// superfly/flyctl#5196: {"error":"Authenticate: token validation error"}.
const tokenRefusal = "Authenticate: token validation error"

var tenantNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// kidRecord is what a macaroon's key ID stands for, as Fly's token table
// row: whose token it is and which organization it reaches ("" for
// none).
type kidRecord struct {
	tenant string
	org    string
}

// issuer mints and verifies the tenants' tokens. Its maps are fixed after
// newIssuer; revoked is guarded by Server.mu.
type issuer struct {
	root    []byte               // signing root; each key ID's key derives from it
	kids    map[string]kidRecord // by key ID
	tokens  map[string]string    // minted token of each tenant, by name
	revoked map[string]bool      // tenant names
}

// newIssuer validates tenants and mints one token per tenant: one
// permission macaroon per organization, with Fly's Organization caveat,
// joined by commas as Fly joins a bundle. The signing root derives from
// seed, so a simulator restarted with the same Seed and Tenants accepts
// the tokens it minted before. It is a simulator, not a vault: anyone who
// knows the seed can mint tokens.
func newIssuer(seed int64, tenants []Tenant) (*issuer, error) {
	if len(tenants) == 0 {
		return nil, nil
	}
	h := sha256.New()
	h.Write([]byte("flysim token root\x00"))
	_ = binary.Write(h, binary.BigEndian, seed)
	iss := &issuer{root: h.Sum(nil), kids: map[string]kidRecord{}, tokens: map[string]string{}, revoked: map[string]bool{}}
	for i, t := range tenants {
		if !tenantNamePattern.MatchString(t.Name) {
			return nil, fmt.Errorf("%w: Tenants[%d].Name %q must be lowercase letters, digits and dashes", ErrInvalidOptions, i, t.Name)
		}
		if _, dup := iss.tokens[t.Name]; dup {
			return nil, fmt.Errorf("%w: Tenants[%d].Name %q is listed twice", ErrInvalidOptions, i, t.Name)
		}
		orgs := make([]string, 0, len(t.Orgs))
		for _, o := range t.Orgs {
			if !appNamePattern.MatchString(o) {
				return nil, fmt.Errorf("%w: Tenants[%d] org %q is not an organization slug", ErrInvalidOptions, i, o)
			}
			if o = canonicalOrg(o); !contains(orgs, o) {
				orgs = append(orgs, o)
			}
		}
		if len(orgs) == 0 {
			orgs = []string{""}
		}
		var raws [][]byte
		for _, org := range orgs {
			raw, err := iss.mint(t.Name, org)
			if err != nil {
				return nil, err
			}
			raws = append(raws, raw)
		}
		iss.tokens[t.Name] = macaroon.ToAuthorizationHeader(raws...)
	}
	return iss, nil
}

// mint signs a permission macaroon for tenant's reach of org ("" for
// none) and records its key ID.
func (iss *issuer) mint(tenant, org string) ([]byte, error) {
	kid := iss.kid(tenant, org)
	iss.kids[string(kid)] = kidRecord{tenant: tenant, org: org}
	m, err := macaroon.New(kid, flyio.LocationPermission, iss.key(kid))
	if err != nil {
		return nil, fmt.Errorf("flysim: mint token: %w", err)
	}
	if org != "" {
		if err := m.Add(&flyio.Organization{ID: orgID(org), Mask: resset.ActionAll}); err != nil {
			return nil, fmt.Errorf("flysim: mint token: %w", err)
		}
	}
	raw, err := m.Encode()
	if err != nil {
		return nil, fmt.Errorf("flysim: mint token: %w", err)
	}
	return raw, nil
}

// kid derives the key ID of tenant's token for org.
func (iss *issuer) kid(tenant, org string) []byte {
	mac := hmac.New(sha256.New, iss.root)
	mac.Write([]byte("kid\x00" + tenant + "\x00" + org))
	return mac.Sum(nil)[:16]
}

// key derives the signing key of a key ID.
func (iss *issuer) key(kid []byte) macaroon.SigningKey {
	mac := hmac.New(sha256.New, iss.root)
	mac.Write([]byte("key\x00"))
	mac.Write(kid)
	return macaroon.SigningKey(mac.Sum(nil))
}

// orgID is an organization's numeric ID, as the Organization caveat and
// GraphQL's internalNumericId carry it.
func orgID(slug string) uint64 { return uint64(orgNumericID(canonicalOrg(slug))) }

// grant is one verified permission macaroon: whose, the organization its
// key ID reaches, and the caveats it carries.
type grant struct {
	rec  kidRecord
	cavs *macaroon.CaveatSet
}

// maxTokenLen bounds the Authorization header flysim decodes: a Fly
// token is some 700 bytes a macaroon (superfly/flyctl#5196 measured 691).
const maxTokenLen = 16 << 10

// errBadToken is any reason to answer 401; its text never reaches a
// client or a log.
var errBadToken = errors.New("bad token")

// verify parses and verifies the macaroons of an Authorization header:
// every permission macaroon must be one flysim minted for a tenant not
// revoked, with its signature intact. Callers hold s.mu (for revoked).
func (iss *issuer) verify(header string) ([]grant, error) {
	if len(header) > maxTokenLen {
		return nil, errBadToken
	}
	toks, err := macaroon.Parse(header)
	if err != nil {
		return nil, errBadToken
	}
	for _, raw := range toks {
		if !msgpack.Bounded(raw) {
			return nil, errBadToken
		}
	}
	perms, _, _, discharges, err := macaroon.FindPermissionAndDischargeTokens(toks, flyio.LocationPermission)
	if err != nil || len(perms) == 0 {
		return nil, errBadToken
	}
	grants := make([]grant, 0, len(perms))
	for _, m := range perms {
		rec, ok := iss.kids[string(m.Nonce.KID)]
		if !ok || iss.revoked[rec.tenant] {
			return nil, errBadToken
		}
		cavs, err := m.Verify(iss.key(m.Nonce.KID), discharges, nil)
		if err != nil {
			return nil, errBadToken
		}
		grants = append(grants, grant{rec: rec, cavs: cavs})
	}
	return grants, nil
}

// allows reports whether some grant allows access at now: its key ID
// reaches the access's organization and its caveats (app, organization,
// validity window, ...) allow the access.
func allows(grants []grant, access *flyio.Access, now time.Time) bool {
	for _, g := range grants {
		if g.rec.org == "" || access.OrgID == nil || orgID(g.rec.org) != *access.OrgID {
			continue
		}
		if g.cavs.Validate(&clockedAccess{Access: access, now: now}) == nil {
			return true
		}
	}
	return false
}

// clockedAccess is a flyio.Access on the simulator's clock: flyio.Access
// itself reads time.Now, which a ValidityWindow caveat compares with.
type clockedAccess struct {
	*flyio.Access
	now time.Time
}

// Now implements macaroon.Access.
func (a *clockedAccess) Now() time.Time { return a.now }

// Token returns the token minted for the named tenant, as Fly prints one
// ("FlyV1 fm2_...", one macaroon per organization the tenant reaches,
// comma-separated): pass it to flylaunch.NewClient, or show it to a demo's
// visitor. It is the same string on every call. A name [Options.Tenants]
// does not list is an error matching [ErrUnknownTenant].
func (s *Server) Token(tenant string) (string, error) {
	if s.iss == nil {
		return "", fmt.Errorf("%w %q: Options.Tenants lists none", ErrUnknownTenant, tenant)
	}
	tok, ok := s.iss.tokens[tenant]
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownTenant, tenant)
	}
	return tok, nil
}

// Revoke revokes every token of the named tenant, attenuated copies
// included, as `fly tokens revoke` does: from now on they are answered
// 401. A name [Options.Tenants] does not list is an error matching
// [ErrUnknownTenant].
func (s *Server) Revoke(tenant string) error {
	if _, err := s.Token(tenant); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.iss.revoked[tenant] = true
	return nil
}

// authResult is what authenticating a request found.
type authResult int

const (
	authRefused authResult = iota // 401
	authAdmin                     // the shared Options.Token, or any token in the old mode
	authTenant                    // verified tenant macaroons
)

// authenticate checks r's token: in the old mode (no Tenants) as before;
// with Tenants, the shared Options.Token (if set) is the operator's
// all-access token, and anything else must be tenant macaroons that
// verify.
func (s *Server) authenticate(r *http.Request) (authResult, []grant) {
	if s.iss == nil {
		if s.authorized(r) {
			return authAdmin, nil
		}
		return authRefused, nil
	}
	if s.token != "" && s.authorized(r) {
		return authAdmin, nil
	}
	h := r.Header.Get("Authorization")
	scheme, _, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || (!strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "FlyV1")) {
		return authRefused, nil
	}
	s.mu.Lock()
	grants, err := s.iss.verify(h)
	s.mu.Unlock()
	if err != nil {
		return authRefused, nil
	}
	return authTenant, grants
}

// accessFor describes what a Machines API request does, as Fly's
// authorizer would: the organization and app it touches (looked up by
// name; an app that does not exist yet needs no app access, the handler
// answers 404), the machine or volume it names, and the action. ok is
// false when the request names no existing resource to check (an unknown
// app): the handler's own answer stands. Callers hold s.mu.
func (s *Server) accessFor(r *http.Request, pattern string, body []byte) (access *flyio.Access, ok bool) {
	access = &flyio.Access{Action: actionOf(r.Method, pattern)}
	switch pattern {
	case "POST /v1/apps":
		var in struct {
			Org string `json:"org_slug"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.Org == "" {
			return nil, false
		}
		id, zero := orgID(in.Org), uint64(0)
		access.OrgID, access.AppID = &id, &zero // app:0:c, creating an app
		return access, true
	case "GET /v1/apps":
		org := r.URL.Query().Get("org_slug")
		if org == "" {
			return nil, false
		}
		id := orgID(org)
		access.OrgID = &id
		return access, true
	}
	a, exists := s.st.Apps[r.PathValue("app")]
	if !exists {
		return nil, false
	}
	oid, aid := orgID(a.Org), uint64(a.InternalNumericID)
	access.OrgID, access.AppID = &oid, &aid
	if id := r.PathValue("id"); id != "" {
		if strings.Contains(pattern, "/volumes/") {
			access.Volume = &id
		} else if strings.Contains(pattern, "/machines/") {
			access.Machine = &id
		}
	}
	return access, true
}

// actionOf is the RWX action of a route: reads, deletes, machine power
// (control), creations and other writes.
func actionOf(method, pattern string) resset.Action {
	switch {
	case method == http.MethodGet:
		return resset.ActionRead
	case method == http.MethodDelete:
		return resset.ActionDelete
	case strings.HasSuffix(pattern, "/stop"), strings.HasSuffix(pattern, "/start"),
		strings.HasSuffix(pattern, "/suspend"), strings.HasSuffix(pattern, "/signal"):
		return resset.ActionControl
	case pattern == "POST /v1/apps", strings.HasSuffix(pattern, "/machines"),
		strings.HasSuffix(pattern, "/volumes"), strings.HasSuffix(pattern, "/ip_assignments"):
		return resset.ActionCreate
	}
	return resset.ActionWrite
}
