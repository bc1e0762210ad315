package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// The forms flysim.New accepts for a tenant name and an organization slug
// (flysim.Tenant); checked here too so that a bad -tenants names the flag
// and the entry. flysim.New still has the last word.
var (
	tenantNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	orgSlugPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$|^[a-z0-9]$`)
)

// parseTenants parses -tenants: comma-separated NAME=ORG[+ORG...] entries,
// e.g. "alice=acme,bob=globex,carol=acme+personal". "NAME=" is a tenant
// whose token reaches no organization. Nothing is trimmed or skipped: an
// empty entry, name or org, a name or org listed twice in its place, or a
// character flysim does not take is an error naming the entry.
func parseTenants(s string) ([]flysim.Tenant, error) {
	if s == "" {
		return nil, nil
	}
	var out []flysim.Tenant
	seen := map[string]bool{}
	for i, entry := range strings.Split(s, ",") {
		name, orgs, ok := strings.Cut(entry, "=")
		switch {
		case entry == "":
			return nil, fmt.Errorf("-tenants: entry %d is empty (entries are NAME=ORG[+ORG...], comma-separated)", i+1)
		case !ok:
			return nil, fmt.Errorf("-tenants: entry %q has no '=' (entries are NAME=ORG[+ORG...])", entry)
		case !tenantNamePattern.MatchString(name):
			return nil, fmt.Errorf("-tenants: entry %q: the tenant name must be 1 to 63 lowercase letters, digits and dashes, not starting with a dash", entry)
		case seen[name]:
			return nil, fmt.Errorf("-tenants: tenant %q is listed twice", name)
		}
		seen[name] = true
		t := flysim.Tenant{Name: name}
		if orgs != "" {
			for _, org := range strings.Split(orgs, "+") {
				switch {
				case !orgSlugPattern.MatchString(org):
					return nil, fmt.Errorf("-tenants: entry %q: %q is not an organization slug (1 to 63 lowercase letters, digits and dashes, not starting or ending with a dash; orgs are joined by '+')", entry, org)
				case slices.Contains(t.Orgs, org):
					return nil, fmt.Errorf("-tenants: entry %q names org %q twice", entry, org)
				}
				t.Orgs = append(t.Orgs, org)
			}
		}
		out = append(out, t)
	}
	return out, nil
}
