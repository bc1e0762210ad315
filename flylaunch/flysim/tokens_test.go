package flysim_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
	"github.com/superfly/macaroon"
	"github.com/superfly/macaroon/flyio"
	"github.com/superfly/macaroon/resset"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// tenantEnv is a simulator with two tenants in different organizations, a
// user reaching two, and one reaching none.
type tenantEnv struct {
	*env
	logs *bytes.Buffer
}

func newTenantEnv(t *testing.T) *tenantEnv {
	t.Helper()
	logs := &bytes.Buffer{}
	e := newEnv(t, flysim.Options{
		Tenants: []flysim.Tenant{
			{Name: "alice", Orgs: []string{"acme"}},
			{Name: "bob", Orgs: []string{"globex"}},
			{Name: "carol", Orgs: []string{"acme", flysim.PersonalOrgRawSlug}},
			{Name: "nobody"},
		},
		// Debug: the request lines, which must not carry tokens either.
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	return &tenantEnv{env: e, logs: logs}
}

// tokenOf is the named tenant's token.
func (e *tenantEnv) tokenOf(t *testing.T, tenant string) string {
	t.Helper()
	tok, err := e.sim.Token(tenant)
	require.NoError(t, err)
	return tok
}

// as is a fly-go client with token.
func (e *tenantEnv) as(t *testing.T, token string) *flaps.Client {
	t.Helper()
	return newClient(t, e.srv, token)
}

// attenuate adds caveats to every permission macaroon of token, as
// `fly tokens attenuate` does.
func attenuate(t *testing.T, token string, cavs ...macaroon.Caveat) string {
	t.Helper()
	toks, err := macaroon.Parse(token)
	require.NoError(t, err)
	perms, _, _, dis, err := macaroon.FindPermissionAndDischargeTokens(toks, flyio.LocationPermission)
	require.NoError(t, err)
	require.NotEmpty(t, perms)
	var out [][]byte
	for _, m := range perms {
		require.NoError(t, m.Add(cavs...))
		b, err := m.Encode()
		require.NoError(t, err)
		out = append(out, b)
	}
	return macaroon.ToAuthorizationHeader(append(out, dis...)...)
}

func appCaveat(id int32) macaroon.Caveat {
	return &flyio.Apps{Apps: resset.New(resset.ActionAll, uint64(id))}
}

// httpStatus is the HTTP status of a fly-go call's error, 200 for nil.
func httpStatus(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return http.StatusOK
	}
	return statusOf(t, err)
}

// TestTenantTokensFormat: a tenant's token is Fly's format, "FlyV1 " and
// comma-separated fm2_ macaroons of the permission location, one per
// organization, each with its Organization caveat; fly-go's tokens.Parse
// sees macaroons only.
func TestTenantTokensFormat(t *testing.T) {
	e := newTenantEnv(t)
	for _, tc := range []struct {
		tenant string
		orgs   int
	}{{"alice", 1}, {"carol", 2}, {"nobody", 1}} {
		t.Run(tc.tenant, func(t *testing.T) {
			tok := e.tokenOf(t, tc.tenant)
			again, err := e.sim.Token(tc.tenant)
			require.NoError(t, err)
			assert.Equal(t, tok, again, "one token per tenant")
			body, ok := strings.CutPrefix(tok, "FlyV1 ")
			require.True(t, ok)
			parts := strings.Split(body, ",")
			assert.Len(t, parts, tc.orgs)
			for _, p := range parts {
				raw, ok := strings.CutPrefix(p, "fm2_")
				require.True(t, ok)
				b, err := base64.StdEncoding.DecodeString(raw)
				require.NoError(t, err)
				m, err := macaroon.Decode(b)
				require.NoError(t, err)
				assert.Equal(t, flyio.LocationPermission, m.Location)
			}
			parsed := tokens.Parse(tok)
			assert.Len(t, parsed.GetMacaroonTokens(), tc.orgs)
			assert.Empty(t, parsed.GetUserTokens())
		})
	}
	_, err := e.sim.Token("mallory")
	assert.ErrorIs(t, err, flysim.ErrUnknownTenant)
}

// TestTenantOptionsValidated: New refuses bad tenant lists.
func TestTenantOptionsValidated(t *testing.T) {
	for name, tenants := range map[string][]flysim.Tenant{
		"empty name":    {{Name: ""}},
		"upper case":    {{Name: "Alice"}},
		"duplicate":     {{Name: "a"}, {Name: "a"}},
		"bad org slug":  {{Name: "a", Orgs: []string{"Acme Inc"}}},
		"space in name": {{Name: "a b"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := flysim.New(flysim.Options{Tenants: tenants})
			assert.ErrorIs(t, err, flysim.ErrInvalidOptions)
		})
	}
}

// TestTenantRules: one row per rule of Fly's authorizer that flysim
// plays: an organization reaches its own apps only, an app caveat refuses
// other apps and a re-created app of the same name, a validity window
// expires on the simulator's clock, a bad, tampered or revoked token is
// 401, and the shared operator token still works beside them.
func TestTenantRules(t *testing.T) {
	ctx := context.Background()
	e := newTenantEnv(t)
	alice, bob := e.as(t, e.tokenOf(t, "alice")), e.as(t, e.tokenOf(t, "bob"))
	a, err := alice.CreateApp(ctx, flaps.CreateAppRequest{Name: "alice-app", Org: "acme"})
	require.NoError(t, err)
	a2, err := alice.CreateApp(ctx, flaps.CreateAppRequest{Name: "alice-other", Org: "acme"})
	require.NoError(t, err)
	_, err = bob.CreateApp(ctx, flaps.CreateAppRequest{Name: "bob-app", Org: "globex"})
	require.NoError(t, err)

	now := e.clock.Now()
	window := &macaroon.ValidityWindow{NotBefore: now.Add(-time.Minute).Unix(), NotAfter: now.Add(time.Hour).Unix()}
	appOnly := attenuate(t, e.tokenOf(t, "alice"), appCaveat(a.InternalNumericID), window)

	getApp := func(token, app string) func() error {
		return func() error { _, err := e.as(t, token).GetApp(ctx, app); return err }
	}
	deleteApp := func(token, app string) func() error {
		return func() error { return e.as(t, token).DeleteApp(ctx, app) }
	}
	for _, tc := range []struct {
		name   string
		call   func() error
		status int
	}{
		{"org token reads its own app", getApp(e.tokenOf(t, "alice"), "alice-app"), 200},
		{"org token refused another org's app", getApp(e.tokenOf(t, "alice"), "bob-app"), 403},
		{"org token cannot create in another org", func() error {
			_, err := alice.CreateApp(ctx, flaps.CreateAppRequest{Name: "sneaky", Org: "globex"})
			return err
		}, 403},
		{"org token cannot list another org", func() error {
			_, err := alice.ListApps(ctx, flaps.ListAppsRequest{OrgSlug: "globex"})
			return err
		}, 403},
		{"multi-org user reaches both", getApp(e.tokenOf(t, "carol"), "alice-app"), 200},
		{"no-org token reaches nothing", getApp(e.tokenOf(t, "nobody"), "alice-app"), 403},
		{"org caveat narrows the user to one org", getApp(attenuate(t, e.tokenOf(t, "carol"), &flyio.Organization{ID: orgIDOf(t, e, "bob-app"), Mask: resset.ActionAll}), "alice-app"), 403},
		{"app caveat allows its app", getApp(appOnly, "alice-app"), 200},
		{"app caveat refuses another app of the org", getApp(appOnly, "alice-other"), 403},
		{"app caveat refuses deleting another app", deleteApp(appOnly, "alice-other"), 403},
		{"app caveat refuses creating apps", func() error {
			_, err := e.as(t, appOnly).CreateApp(ctx, flaps.CreateAppRequest{Name: "more", Org: "acme"})
			return err
		}, 403},
		{"app caveat refuses listing the org", func() error {
			_, err := e.as(t, appOnly).ListApps(ctx, flaps.ListAppsRequest{OrgSlug: "acme"})
			return err
		}, 403},
		{"garbage token", getApp("FlyV1 fm2_bm90IGEgbWFjYXJvb24=", "alice-app"), 401},
		{"not a macaroon", getApp("some-other-token", "alice-app"), 401},
		{"tampered signature", getApp(tamper(t, e.tokenOf(t, "alice")), "alice-app"), 401},
		{"another simulator's token", getApp(foreignToken(t), "alice-app"), 401},
		{"operator token reaches all", getApp(testToken, "bob-app"), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.status, httpStatus(t, tc.call()))
		})
	}
	assert.NotEqual(t, a.InternalNumericID, a2.InternalNumericID)

	t.Run("app caveat refuses a re-created app of the same name", func(t *testing.T) {
		require.NoError(t, alice.DeleteApp(ctx, "alice-app"))
		again, err := alice.CreateApp(ctx, flaps.CreateAppRequest{Name: "alice-app", Org: "acme"})
		require.NoError(t, err)
		require.NotEqual(t, a.InternalNumericID, again.InternalNumericID, "a new incarnation, a new numeric ID")
		assert.Equal(t, 403, httpStatus(t, getApp(appOnly, "alice-app")()))
		assert.Equal(t, 403, httpStatus(t, deleteApp(appOnly, "alice-app")()))
		assert.Equal(t, 200, httpStatus(t, getApp(e.tokenOf(t, "alice"), "alice-app")()), "the org token still reaches it")
	})
	t.Run("validity window expires on the simulator's clock", func(t *testing.T) {
		scoped := attenuate(t, e.tokenOf(t, "bob"), window)
		assert.Equal(t, 200, httpStatus(t, getApp(scoped, "bob-app")()))
		e.clock.Advance(2 * time.Hour)
		assert.Equal(t, 403, httpStatus(t, getApp(scoped, "bob-app")()))
		assert.Equal(t, 200, httpStatus(t, getApp(e.tokenOf(t, "bob"), "bob-app")()), "the unattenuated token has no window")
	})
	t.Run("revoked tenant is 401, attenuated copies too", func(t *testing.T) {
		scoped := attenuate(t, e.tokenOf(t, "bob"), appCaveat(1))
		require.NoError(t, e.sim.Revoke("bob"))
		assert.Equal(t, 401, httpStatus(t, getApp(e.tokenOf(t, "bob"), "bob-app")()))
		assert.Equal(t, 401, httpStatus(t, getApp(scoped, "bob-app")()))
		assert.ErrorIs(t, e.sim.Revoke("mallory"), flysim.ErrUnknownTenant)
	})
	t.Run("401 body is Fly's", func(t *testing.T) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/v1/apps/alice-app", nil)
		req.Header.Set("Authorization", "FlyV1 fm2_AAAA")
		e.sim.ServeHTTP(rec, req)
		assert.Equal(t, 401, rec.Code)
		assert.JSONEq(t, `{"error":"Authenticate: token validation error"}`, rec.Body.String())
	})
	t.Run("no token text in the log", func(t *testing.T) {
		for _, name := range []string{"alice", "carol"} {
			assertNoToken(t, e.logs.String(), e.tokenOf(t, name))
		}
		assertNoToken(t, e.logs.String(), appOnly)
	})
}

// orgIDOf is the numeric ID of an app's organization, as GetApp tells it.
func orgIDOf(t *testing.T, e *tenantEnv, app string) uint64 {
	t.Helper()
	a, err := e.client.GetApp(context.Background(), app)
	require.NoError(t, err)
	return uint64(a.Organization.InternalNumericID)
}

// tamper flips one byte of the signature of the token's first macaroon.
func tamper(t *testing.T, token string) string {
	t.Helper()
	toks, err := macaroon.Parse(token)
	require.NoError(t, err)
	m, err := macaroon.Decode(toks[0])
	require.NoError(t, err)
	m.Tail[0] ^= 1
	b, err := m.Encode()
	require.NoError(t, err)
	return macaroon.ToAuthorizationHeader(b)
}

// foreignToken is a well-formed Fly token flysim did not mint.
func foreignToken(t *testing.T) string {
	t.Helper()
	m, err := macaroon.New([]byte("some-kid"), flyio.LocationPermission, macaroon.NewSigningKey())
	require.NoError(t, err)
	s, err := m.String()
	require.NoError(t, err)
	return "FlyV1 " + s
}

// assertNoToken fails if text holds the token or any of its macaroons'
// bodies.
func assertNoToken(t *testing.T, text, token string) {
	t.Helper()
	body := strings.TrimPrefix(token, "FlyV1 ")
	assert.NotContains(t, text, body)
	for _, p := range strings.Split(body, ",") {
		raw := strings.TrimPrefix(p, "fm2_")
		assert.NotContains(t, text, raw[:min(len(raw), 24)])
		assert.NotContains(t, text, raw[len(raw)-24:])
	}
}

// TestGraphQLOrganizations: fly-go's own GraphQL client, GetOrganizations,
// through flysim.Transport, lists the organizations each token reaches;
// a bad token is refused.
func TestGraphQLOrganizations(t *testing.T) {
	e := newTenantEnv(t)
	list := func(token string) ([]fly.Organization, error) {
		debug, region := false, ""
		c := fly.NewClientFromOptions(fly.ClientOptions{
			Tokens:           tokens.Parse(token),
			BaseURL:          "https://api.fly.io",
			EnableDebugTrace: &debug,
			FlyForceRegion:   &region,
			Transport:        &fly.Transport{UnderlyingTransport: flysim.Transport(e.srv.URL, e.srv.Client().Transport), UserAgent: "flysim-test"},
		})
		return c.GetOrganizations(context.Background())
	}
	appOnly := attenuate(t, e.tokenOf(t, "alice"), appCaveat(1))
	for _, tc := range []struct {
		name  string
		token string
		slugs []string
		bad   bool
	}{
		{"org token", e.tokenOf(t, "alice"), []string{"acme"}, false},
		{"other org token", e.tokenOf(t, "bob"), []string{"globex"}, false},
		{"user of two orgs", e.tokenOf(t, "carol"), []string{"acme", "personal"}, false},
		{"no org", e.tokenOf(t, "nobody"), nil, false},
		{"app-scoped token reaches no org", appOnly, nil, false},
		{"operator token", testToken, []string{"personal"}, false},
		{"bad token", "FlyV1 fm2_AAAA", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orgs, err := list(tc.token)
			if tc.bad {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "401")
				return
			}
			require.NoError(t, err)
			var slugs []string
			for _, o := range orgs {
				slugs = append(slugs, o.Slug)
				assert.NotEmpty(t, o.InternalNumericID)
				if o.Slug == flysim.PersonalOrg {
					assert.Equal(t, "PERSONAL", o.Type)
					assert.Equal(t, flysim.PersonalOrgRawSlug, o.RawSlug)
				}
			}
			assert.Equal(t, tc.slugs, slugs)
		})
	}
	assert.Positive(t, e.sim.Calls()["POST /graphql"])
}

// TestSharedTokenModeUnchanged: without Tenants a macaroon-looking token
// is just a bearer token, and a wrong one still gets the old 401 body.
func TestSharedTokenModeUnchanged(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/v1/apps/x", nil)
	req.Header.Set("Authorization", "FlyV1 fm2_AAAA")
	e.sim.ServeHTTP(rec, req)
	assert.Equal(t, 401, rec.Code)
	assert.JSONEq(t, `{"error":"unauthorized"}`, rec.Body.String())
	_, err := e.sim.Token("alice")
	assert.ErrorIs(t, err, flysim.ErrUnknownTenant)
}
