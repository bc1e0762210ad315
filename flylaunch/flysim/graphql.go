package flysim

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/superfly/macaroon/flyio"
	"github.com/superfly/macaroon/resset"
)

// gqlError is one entry of a GraphQL answer's errors, as fly-go decodes it
// (fly.Error: message, path, extensions.code).
type gqlError struct {
	Message    string            `json:"message"`
	Extensions map[string]string `json:"extensions,omitempty"`
}

// gqlOrg is an organization node with the fields fly-go v0.9.3's
// GetOrganizations asks for.
type gqlOrg struct {
	ID                string `json:"id"`
	Slug              string `json:"slug"`
	RawSlug           string `json:"rawSlug"`
	Name              string `json:"name"`
	Type              string `json:"type"`
	PaidPlan          bool   `json:"paidPlan"`
	Billable          bool   `json:"billable"`
	ViewerRole        string `json:"viewerRole"`
	InternalNumericID string `json:"internalNumericId"`
}

// graphql serves POST /graphql, Fly's GraphQL endpoint
// (https://api.fly.io/graphql, fly-go's fly.Client): only the query
// fly-go's GetOrganizations sends, `organizations(admin: $admin) { nodes
// {...} }`, answered with the organizations the token reaches. A token
// flysim cannot verify gets 401 with a GraphQL errors body; any other
// query gets a GraphQL error.
func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	res, grants := s.authenticate(r)
	if res == authRefused {
		writeJSON(w, http.StatusUnauthorized, map[string]any{
			"data":   nil,
			"errors": []gqlError{{Message: "You must be authenticated to view this.", Extensions: map[string]string{"code": "UNAUTHORIZED"}}},
		})
		return
	}
	b, err := readBody(r)
	var in struct {
		Query string `json:"query"`
	}
	if err != nil || json.Unmarshal(b, &in) != nil || !strings.Contains(in.Query, "organizations") {
		writeJSON(w, http.StatusOK, map[string]any{
			"data":   nil,
			"errors": []gqlError{{Message: "flysim answers only the organizations query"}},
		})
		return
	}
	var slugs []string
	if res == authAdmin {
		slugs = []string{PersonalOrg}
	} else {
		slugs = s.reachableOrgs(grants)
	}
	nodes := make([]gqlOrg, 0, len(slugs))
	for _, slug := range slugs {
		nodes = append(nodes, orgNode(slug))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"data": map[string]any{"organizations": map[string]any{"nodes": nodes}},
	})
}

// reachableOrgs lists, sorted, the organizations grants may read.
func (s *Server) reachableOrgs(grants []grant) []string {
	now := s.now()
	var out []string
	for _, g := range grants {
		if g.rec.org == "" {
			continue
		}
		id := orgID(g.rec.org)
		if allows(grants, &flyio.Access{OrgID: &id, Action: resset.ActionRead}, now) && !contains(out, g.rec.org) {
			out = append(out, g.rec.org)
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// orgNode renders an organization as GraphQL answers it.
func orgNode(slug string) gqlOrg {
	id := strconv.FormatUint(orgID(slug), 10)
	o := gqlOrg{ID: "org_" + id, Slug: slug, RawSlug: slug, Name: slug, Type: "SHARED", ViewerRole: "admin", InternalNumericID: id}
	if slug == PersonalOrg {
		o.RawSlug, o.Name, o.Type = PersonalOrgRawSlug, "Personal", "PERSONAL"
	}
	return o
}
