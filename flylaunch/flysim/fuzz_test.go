package flysim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/require"
)

// FuzzRequestBodies throws arbitrary bodies at every route that decodes
// JSON: the simulator must never panic or answer 500, anything that is not
// JSON gets 400, and every answer but 204 No Content has a JSON body.
func FuzzRequestBodies(f *testing.F) {
	sim, err := flysim.New(flysim.Options{Token: testToken, Speed: 1000, Profile: flysim.Instant()})
	require.NoError(f, err)
	f.Cleanup(func() { require.NoError(f, sim.Close()) })
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		return rec
	}
	require.Equal(f, http.StatusCreated, do("POST", "/v1/apps", `{"name":"fz","org_slug":"personal"}`).Code)
	rec := do("POST", "/v1/apps/fz/machines", `{"config":{"image":"nginx"}}`)
	require.Equal(f, http.StatusOK, rec.Code)
	var m struct{ ID string }
	require.NoError(f, json.Unmarshal(rec.Body.Bytes(), &m))

	routes := []string{
		"/v1/apps",
		"/v1/apps/fz/machines",
		"/v1/apps/fz/machines/" + m.ID,
		"/v1/apps/fz/secrets",
		"/v1/apps/fz/secrets/NAME",
		"/v1/apps/fz/ip_assignments",
		"/v1/apps/fz/machines/" + m.ID + "/metadata/key",
		"/v1/apps/fz/machines/" + m.ID + "/signal",
		"/v1/apps/fz/volumes",
	}
	seeds := []string{
		``, `{`, `null`, `[]`, `"x"`, `{"name":1}`, `{"name":"ok-name","org_slug":"personal"}`,
		`{"config":{"image":"nginx","checks":{"c":{"grace_period":"zz"}}}}`,
		`{"config":{"image":"nginx","services":[{"internal_port":80,"checks":[{"type":"http"}]}]},"region":"ams","lease_ttl":5}`,
		`{"config":null,"min_secrets_version":18446744073709551615}`,
		`{"values":{"A":"1","B":null,"bad name":"x"}}`, `{"value":"v"}`, `{"type":"v6"}`, `{"signal":9}`,
		`{"name":"fz_data","region":"ams","size_gb":1}`, `{"name":"fz","region":"ams","size_gb":0,"snapshot_id":null}`,
		"\x00\xff", `{"config":{"image":"a","guest":{"cpus":"many"}}}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		rec := do(http.MethodPost, routes[int(route)%len(routes)], body)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: %d %s", routes[int(route)%len(routes)], body, rec.Code, rec.Body)
		}
		if !json.Valid([]byte(body)) && rec.Code != http.StatusBadRequest {
			t.Fatalf("POST %s with invalid JSON %q: want 400, got %d", routes[int(route)%len(routes)], body, rec.Code)
		}
		switch {
		case rec.Code == http.StatusNoContent:
			if rec.Body.Len() != 0 {
				t.Fatalf("204 with a body: %q", rec.Body)
			}
		case !json.Valid(rec.Body.Bytes()):
			t.Fatalf("%d response is not JSON: %q", rec.Code, rec.Body)
		}
	})
}

// FuzzListQuery feeds arbitrary query strings to the machine list, whose
// metadata/state/region filters are parsed from raw client input.
func FuzzListQuery(f *testing.F) {
	sim, err := flysim.New(flysim.Options{Token: testToken, Profile: flysim.Instant()})
	require.NoError(f, err)
	f.Cleanup(func() { require.NoError(f, sim.Close()) })
	do := func(method, target, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		return rec
	}
	require.Equal(f, http.StatusCreated, do("POST", "/v1/apps", `{"name":"q","org_slug":"personal"}`).Code)
	require.Equal(f, http.StatusOK, do("POST", "/v1/apps/q/machines", `{"config":{"image":"nginx","metadata":{"k":"v w"}}}`).Code)
	for _, s := range []string{"", "started", "metadata.k=v%20w", "state=a,b,,c&state=", "%zz", "metadata.=x", "include_deleted=maybe", "region=fra&metadata.k=v+w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "/v1/apps/q/machines", nil)
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("query %q: status %d %s", query, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("query %q: response is not JSON: %q", query, rec.Body)
		}
	})
}

// FuzzTenantAuthorization throws arbitrary Authorization headers at a
// simulator with tenants: it must never panic, and only the tenant's own
// token (or a byte-identical copy) is let through to the app; anything
// else is 401 or 403.
func FuzzTenantAuthorization(f *testing.F) {
	sim, err := flysim.New(flysim.Options{Tenants: []flysim.Tenant{{Name: "t", Orgs: []string{"acme"}}}, Profile: flysim.Instant()})
	require.NoError(f, err)
	f.Cleanup(func() { require.NoError(f, sim.Close()) })
	tok, err := sim.Token("t")
	require.NoError(f, err)
	do := func(method, path, auth, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		return rec
	}
	require.Equal(f, http.StatusCreated, do("POST", "/v1/apps", tok, `{"name":"fz","org_slug":"acme"}`).Code)
	f.Add(tok)
	f.Add("FlyV1 fm2_AAAA")
	f.Add("FlyV1 fm2_" + strings.Repeat("A", 40) + ",fm1r_AAAA,fo1_x")
	f.Add("Bearer " + strings.TrimPrefix(tok, "FlyV1 ")[:40])
	f.Add(strings.Replace(tok, "fm2_", "fm1r_", 1))
	f.Fuzz(func(t *testing.T, auth string) {
		rec := do("GET", "/v1/apps/fz", auth, "")
		if rec.Code == http.StatusOK {
			// Only the tenant's macaroons, however labelled, may pass.
			require.Contains(t, []int{http.StatusOK}, rec.Code)
			return
		}
		require.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, rec.Code, rec.Body.String())
		rec = do("POST", "/graphql", auth, `{"query":"query { organizations(admin: false) { nodes { slug } } }"}`)
		require.Contains(t, []int{http.StatusOK, http.StatusUnauthorized}, rec.Code)
	})
}
