package flysim

// PersonalOrg is the canonical slug of the token's personal organization,
// the one every response carries.
const PersonalOrg = "personal"

// PersonalOrgRawSlug is the personal organization's raw slug (Fly derives
// one from the user's name, e.g. "jane-doe-42"). Requests may name the
// personal organization either way; responses always say [PersonalOrg].
const PersonalOrgRawSlug = "flysim-user-7"

// canonicalOrg maps an organization slug to the one responses carry.
func canonicalOrg(slug string) string {
	if slug == PersonalOrgRawSlug {
		return PersonalOrg
	}
	return slug
}
