package flylaunch

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/macaroon"
	"github.com/superfly/macaroon/flyio"
	"github.com/superfly/macaroon/resset"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/sealkit/sealkit/flylaunch/internal/msgpack"
)

// shiftClock is a clock that runs with time.Now, shifted by a settable
// offset: flysim follows it, so a token's validity window can pass
// without waiting.
type shiftClock struct{ off atomic.Int64 }

func (c *shiftClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *shiftClock) advance(d time.Duration) { c.off.Add(int64(d)) }

// newTenantSimEnv is a simulator issuing tokens for alice (org acme), bob
// (org globex), carol (acme and the personal org) and nobody (no org).
func newTenantSimEnv(t *testing.T) (*simEnv, *shiftClock) {
	t.Helper()
	clock := &shiftClock{}
	e := newSimEnv(t, envOptions{clock: clock.now, tenants: []flysim.Tenant{
		{Name: "alice", Orgs: []string{"acme"}},
		{Name: "bob", Orgs: []string{"globex"}},
		{Name: "carol", Orgs: []string{"acme", flysim.PersonalOrg}},
		{Name: "nobody"},
	}})
	return e, clock
}

func tokenOf(t *testing.T, e *simEnv, tenant string) string {
	t.Helper()
	tok, err := e.sim.Token(tenant)
	require.NoError(t, err)
	return tok
}

// secretTexts is every piece of a token that must never show: the whole
// token, each macaroon, and the head and tail of each macaroon's body.
func secretTexts(token string) []string {
	body := strings.TrimPrefix(token, "FlyV1 ")
	out := []string{body}
	for _, p := range strings.Split(body, ",") {
		_, raw, _ := strings.Cut(p, "_")
		out = append(out, p, raw[:min(len(raw), 20)], raw[max(0, len(raw)-20):])
	}
	return out
}

// assertNoTokenText fails if any text shows any part of any token.
func assertNoTokenText(t *testing.T, texts []string, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		for _, s := range secretTexts(tok) {
			for _, text := range texts {
				assert.NotContains(t, text, s)
			}
		}
	}
}

func TestOrganizations(t *testing.T) {
	e, _ := newTenantSimEnv(t)
	revoked := tokenOf(t, e, "bob")
	scoped, err := AttenuateToApp(tokenOf(t, e, "alice"), 42, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, e.sim.Revoke("bob"))
	var errTexts []string
	for _, tc := range []struct {
		name  string
		token string
		want  []Org // nil: refused
	}{
		{"org token", tokenOf(t, e, "alice"), []Org{{Slug: "acme", Name: "acme"}}},
		{"user of two orgs", tokenOf(t, e, "carol"), []Org{{Slug: "acme", Name: "acme"}, {Slug: "personal", Name: "Personal", Personal: true}}},
		{"no org", tokenOf(t, e, "nobody"), nil},
		{"revoked", revoked, nil},
		{"attenuated to one app", scoped, nil},
		{"truncated", tokenOf(t, e, "alice")[:116], nil},
		{"garbage", "FlyV1 fm2_bm90IGEgdG9rZW4=", nil},
		{"not a Fly token", "hello", nil},
		{"empty", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orgs, err := Organizations(waitCtx(t), tc.token, flysim.Transport(e.srv.URL, e.tr))
			if tc.want == nil {
				require.ErrorIs(t, err, ErrTokenRefused)
				errTexts = append(errTexts, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, orgs)
		})
	}
	t.Run("no token text in errors", func(t *testing.T) {
		assertNoTokenText(t, errTexts, tokenOf(t, e, "alice"), revoked, scoped)
	})
	t.Run("a Fly that cannot be reached is not a refusal", func(t *testing.T) {
		_, err := Organizations(waitCtx(t), tokenOf(t, e, "alice"), flysim.Transport("http://127.0.0.1:1", nil))
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrTokenRefused)
	})
}

// TestAttenuateToApp: the copy is Fly's format, each permission macaroon
// carrying the app and window caveats after its own; bad arguments and
// tokens that are not macaroons are refused without showing the token.
func TestAttenuateToApp(t *testing.T) {
	sim, err := flysim.New(flysim.Options{Tenants: []flysim.Tenant{{Name: "u", Orgs: []string{"acme", "globex"}}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	tok, err := sim.Token("u")
	require.NoError(t, err)
	until := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

	got, err := AttenuateToApp(tok, 987654, until)
	require.NoError(t, err)
	body, ok := strings.CutPrefix(got, "FlyV1 ")
	require.True(t, ok)
	parts := strings.Split(body, ",")
	require.Len(t, parts, 2, "both orgs' macaroons narrowed")
	for _, p := range parts {
		raw, ok := strings.CutPrefix(p, "fm2_")
		require.True(t, ok)
		b, err := base64.StdEncoding.DecodeString(raw)
		require.NoError(t, err)
		m, err := macaroon.Decode(b)
		require.NoError(t, err)
		assert.Equal(t, flyio.LocationPermission, m.Location)
		apps := macaroon.GetCaveats[*flyio.Apps](&m.UnsafeCaveats)
		require.Len(t, apps, 1)
		assert.Equal(t, resset.New(resset.ActionAll, uint64(987654)), apps[0].Apps)
		windows := macaroon.GetCaveats[*macaroon.ValidityWindow](&m.UnsafeCaveats)
		require.Len(t, windows, 1)
		assert.Equal(t, until.Unix(), windows[0].NotAfter)
		assert.Equal(t, until, m.Expiration().UTC())
		assert.Len(t, macaroon.GetCaveats[*flyio.Organization](&m.UnsafeCaveats), 1, "the org caveat stays")
	}

	again, err := AttenuateToApp(got, 987654, until.Add(time.Hour))
	require.NoError(t, err)
	assert.NotEqual(t, got, again)

	withOAuth, err := AttenuateToApp(tok+",fo1_someoauthtoken", 1, until)
	require.NoError(t, err)
	assert.NotContains(t, withOAuth, "fo1_", "an OAuth token beside the macaroons cannot be narrowed, so it is dropped")

	for _, tc := range []struct {
		name   string
		token  string
		appID  int64
		until  time.Time
		target error
		field  string
	}{
		{"zero app", tok, 0, until, nil, "appID"},
		{"negative app", tok, -5, until, nil, "appID"},
		{"no window", tok, 1, time.Time{}, nil, "notAfter"},
		{"oauth only", "fo1_abcdefghijklmnop", 1, until, ErrNotMacaroon, ""},
		{"plain bearer", "sim-token-abcdefghijkl", 1, until, ErrNotMacaroon, ""},
		{"bad base64", "FlyV1 fm2_!!!!abcdefghijkl", 1, until, ErrNotMacaroon, ""},
		{"not msgpack", "FlyV1 fm2_" + base64.StdEncoding.EncodeToString([]byte("abcdefghijkl")), 1, until, ErrNotMacaroon, ""},
		{"huge", "FlyV1 fm2_" + strings.Repeat("A", 20000), 1, until, ErrNotMacaroon, ""},
		{"empty", "", 1, until, ErrNotMacaroon, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := AttenuateToApp(tc.token, tc.appID, tc.until)
			require.Error(t, err)
			assert.Empty(t, out)
			if tc.target != nil {
				assert.ErrorIs(t, err, tc.target)
			} else {
				var se *SpecError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tc.field, se.Field)
			}
			if tc.token != "" {
				assert.NotContains(t, err.Error(), strings.TrimPrefix(tc.token, "FlyV1 ")[:10])
			}
		})
	}
}

// FuzzAttenuateToApp: any token string is either narrowed into Fly's
// format or refused with ErrNotMacaroon; nothing panics and no error shows
// the token.
func FuzzAttenuateToApp(f *testing.F) {
	sim, err := flysim.New(flysim.Options{Tenants: []flysim.Tenant{{Name: "u", Orgs: []string{"acme"}}}})
	require.NoError(f, err)
	f.Cleanup(func() { _ = sim.Close() })
	tok, err := sim.Token("u")
	require.NoError(f, err)
	f.Add(tok)
	f.Add(tok[:100])
	f.Add(strings.Replace(tok, "fm2_", "fm1r_", 1) + ",fm1a_AAAA")
	f.Add("FlyV1 fm2_AAAA,fo1_x")
	f.Add("Bearer x")
	f.Fuzz(func(t *testing.T, token string) {
		out, err := AttenuateToApp(token, 7, time.Unix(2000000000, 0))
		if err != nil {
			require.ErrorIs(t, err, ErrNotMacaroon)
			if len(token) >= 12 {
				require.NotContains(t, err.Error(), token)
			}
			return
		}
		require.True(t, strings.HasPrefix(out, "FlyV1 fm2_"), out)
		_, err = AttenuateToApp(out, 7, time.Unix(2000000000, 0))
		require.NoError(t, err, "a narrowed token narrows again")
	})
}

// TestLaunchWithTenantToken: two visitors, each with their own token,
// launch at once; each Livebook lands in the visitor's own organization,
// and the record carries the app's numeric ID.
func TestLaunchWithTenantToken(t *testing.T) {
	e, _ := newTenantSimEnv(t)
	// One Launcher, each visitor's deploy run As the visitor's token:
	// the deploys are the base Launcher's (Attach finds them).
	base := e.launcher(t)
	var wg sync.WaitGroup
	recs := map[string]Record{}
	var mu sync.Mutex
	for _, v := range []struct{ tenant, org, app string }{{"alice", "acme", "alice-book"}, {"bob", "globex", "bob-book"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := base.As(e.clientFor(t, tokenOf(t, e, v.tenant)))
			spec := testSpec(v.app)
			spec.Org = v.org
			d, err := l.Start(waitCtx(t), spec)
			if !assert.NoError(t, err) {
				return
			}
			attached, ok := base.Attach(d.Record().LaunchID)
			assert.True(t, ok, "the base Launcher runs the deploy started As the visitor")
			assert.Same(t, d, attached)
			res, err := d.Wait(waitCtx(t))
			if assert.NoError(t, err) {
				mu.Lock()
				recs[v.app] = res.Record
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for app, org := range map[string]string{"alice-book": "acme", "bob-book": "globex"} {
		t.Run(app, func(t *testing.T) {
			a, err := e.client.GetApp(waitCtx(t), app) // the operator's view of flysim's state
			require.NoError(t, err)
			assert.Equal(t, org, a.Organization.Slug)
			rec := recs[app]
			assert.Equal(t, org, rec.Org)
			assert.Equal(t, a.ID, rec.AppID)
			assert.Equal(t, int64(a.InternalNumericID), rec.AppNumericID)
			assert.NoError(t, rec.Validate())
		})
	}
	t.Run("a tenant cannot launch into another's org", func(t *testing.T) {
		l := base.As(e.clientFor(t, tokenOf(t, e, "alice")))
		spec := testSpec("alice-in-globex")
		spec.Org = "globex"
		d, err := l.Start(waitCtx(t), spec)
		if err == nil {
			_, err = d.Wait(waitCtx(t))
		}
		require.Error(t, err)
		_, _, exists := e.sim.Counts("alice-in-globex")
		assert.False(t, exists, "nothing created")
	})
	assertNoTokenText(t, []string{e.logs.String()}, tokenOf(t, e, "alice"), tokenOf(t, e, "bob"))
}

// TestAttenuatedTokenConfined plays the attacker who took a manage link's
// token out of it: narrowed to app A for an hour, it stops, starts and
// deletes A through Livebook, and is refused for everything else: another
// app of the same org (stop, delete), an app re-created under A's name,
// and anything once its window has passed.
func TestAttenuatedTokenConfined(t *testing.T) {
	e, clock := newTenantSimEnv(t)
	alice := tokenOf(t, e, "alice")
	owner := e.launcher(t, func(o *Options) { o.Client = e.clientFor(t, alice) })
	launch := func(app string) Record {
		spec := testSpec(app)
		spec.Org = "acme"
		d, err := owner.Start(waitCtx(t), spec)
		require.NoError(t, err)
		res, err := d.Wait(waitCtx(t))
		require.NoError(t, err)
		return res.Record
	}
	recA, recB := launch("app-a"), launch("app-b")
	require.NotZero(t, recA.AppNumericID)

	scoped, err := AttenuateToApp(alice, recA.AppNumericID, clock.now().Add(time.Hour))
	require.NoError(t, err)
	manage := e.launcher(t, func(o *Options) { o.Client = e.clientFor(t, scoped) })
	attacker := e.clientFor(t, scoped)
	var errs []error
	refused := func(t *testing.T, err error) {
		t.Helper()
		errs = append(errs, err)
		require.Error(t, err)
		var fe *flaps.FlapsError
		if errors.As(err, &fe) {
			assert.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, fe.ResponseStatusCode)
		}
	}

	t.Run("the link's own app: stop and start", func(t *testing.T) {
		b := livebookOf(t, manage, recA)
		st, err := b.Stop(waitCtx(t))
		require.NoError(t, err)
		assert.Equal(t, StateStopped, st.State)
		st, err = b.Start(waitCtx(t))
		require.NoError(t, err)
		assert.Equal(t, StateRunning, st.State)
	})
	t.Run("another app of the org is refused", func(t *testing.T) {
		refused(t, attacker.Stop(waitCtx(t), "app-b", fly.StopMachineInput{ID: recB.MachineID}, ""))
		refused(t, attacker.DeleteApp(waitCtx(t), "app-b"))
		_, err := livebookOf(t, manage, recB).Stop(waitCtx(t))
		errs = append(errs, err)
		require.Error(t, err)
		m, err := e.client.Get(waitCtx(t), "app-b", recB.MachineID)
		require.NoError(t, err)
		assert.NotEqual(t, fly.MachineStateStopped, m.State, "app B untouched")
		_, _, exists := e.sim.Counts("app-b")
		assert.True(t, exists)
	})
	t.Run("the link's own app: delete", func(t *testing.T) {
		require.NoError(t, livebookOf(t, manage, recA).Delete(waitCtx(t)))
		_, _, exists := e.sim.Counts("app-a")
		assert.False(t, exists)
	})
	t.Run("an app re-created under the same name is refused", func(t *testing.T) {
		again, err := e.clientFor(t, alice).CreateApp(waitCtx(t), flaps.CreateAppRequest{Name: "app-a", Org: "acme"})
		require.NoError(t, err)
		require.NotEqual(t, recA.AppNumericID, int64(again.InternalNumericID))
		_, err = attacker.GetApp(waitCtx(t), "app-a")
		refused(t, err)
		refused(t, attacker.DeleteApp(waitCtx(t), "app-a"))
		_, _, exists := e.sim.Counts("app-a")
		assert.True(t, exists)
	})
	t.Run("after the window everything is refused", func(t *testing.T) {
		scopedB, err := AttenuateToApp(alice, recB.AppNumericID, clock.now().Add(time.Hour))
		require.NoError(t, err)
		linkB := e.clientFor(t, scopedB)
		_, err = linkB.GetApp(waitCtx(t), "app-b")
		require.NoError(t, err, "inside its window it works")
		clock.advance(2 * time.Hour)
		_, err = linkB.GetApp(waitCtx(t), "app-b")
		refused(t, err)
		refused(t, linkB.DeleteApp(waitCtx(t), "app-b"))
		_, _, exists := e.sim.Counts("app-b")
		assert.True(t, exists)
	})
	t.Run("no token text in errors or logs", func(t *testing.T) {
		texts := []string{e.logs.String()}
		for _, err := range errs {
			if err != nil {
				texts = append(texts, err.Error())
			}
		}
		assertNoTokenText(t, texts, alice, scoped)
	})
}

// TestCraftedTokenRefusedUpFront: a token whose macaroon claims a 3 GB
// binary (fly-go's client would decode it on every request) is refused by
// NewClient and Organizations before anything decodes it.
func TestCraftedTokenRefusedUpFront(t *testing.T) {
	crafted := "FlyV1 fm1r_lJPEEG6KPQWYRX0SyPEpiYC/7EXbyBYxqjPPSn0qR3vopLE=,fm1a_AAAz"
	_, err := NewClient(waitCtx(t), crafted, nil)
	var se *SpecError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "token", se.Field)
	_, err = Organizations(waitCtx(t), crafted, flysim.Transport("http://127.0.0.1:1", nil))
	require.ErrorIs(t, err, ErrTokenRefused)
	assert.NotContains(t, err.Error(), "lJPEEG6K")
}

// FuzzBoundedMsgpack: the pre-decode check never panics, and what it
// lets through macaroon.Decode handles without huge allocations.
func FuzzBoundedMsgpack(f *testing.F) {
	f.Add([]byte{0x94, 0x90, 0xa0, 0x90, 0xc4, 0x00})
	f.Add([]byte{0xc6, 0xc8, 0x16, 0x31, 0xaa, 0x00})
	f.Add([]byte{0xdd, 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if msgpack.Bounded(b) {
			_, _ = macaroon.Decode(b)
		}
	})
}

// TestAsToken: a Launcher As a visitor's token, checked first: a token Fly
// refuses or an org it does not reach is refused before anything is
// created, with an org named or not.
func TestAsToken(t *testing.T) {
	e, _ := newTenantSimEnv(t)
	base := e.launcher(t, func(o *Options) { o.Client = nil })
	tr := flysim.Transport(e.srv.URL, e.tr)
	revoked := tokenOf(t, e, "bob")
	require.NoError(t, e.sim.Revoke("bob"))
	tests := []struct {
		name, token, org string
		want             error
	}{
		{"reached org", tokenOf(t, e, "alice"), "acme", nil},
		{"org not reached", tokenOf(t, e, "alice"), "globex", ErrOrgNotReached},
		{"revoked", revoked, "globex", ErrTokenRefused},
		{"not a Fly token", "hello", "acme", ErrTokenRefused},
		{"not a Fly token, no org", "hello", "", ErrTokenRefused},
		{"no org reached", tokenOf(t, e, "nobody"), "acme", ErrTokenRefused},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := fmt.Sprintf("as-token-%d", i)
			l, err := base.AsToken(waitCtx(t), tt.token, tt.org, tr)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				assertNoTokenText(t, []string{err.Error()}, tokenOf(t, e, "alice"))
				_, _, exists := e.sim.Counts(app)
				assert.False(t, exists)
				return
			}
			require.NoError(t, err)
			spec := testSpec(app)
			spec.Org = tt.org
			d, err := l.Start(waitCtx(t), spec)
			require.NoError(t, err)
			_, err = d.Wait(waitCtx(t))
			require.NoError(t, err)
		})
	}
	t.Run("without an org, any org the token reaches", func(t *testing.T) {
		before := e.sim.Calls()["POST /graphql"]
		_, err := base.AsToken(waitCtx(t), tokenOf(t, e, "alice"), "", tr)
		require.NoError(t, err)
		assert.Equal(t, before+1, e.sim.Calls()["POST /graphql"], "the token is checked all the same")
	})
}
