package flylaunch

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/superfly/fly-go/flaps"
)

// appState is what GetApp says about the deploy's app name.
type appState int

const (
	appAbsent  appState = iota // 404, or not visible yet
	appOurs                    // exists in the deploy's org
	appForeign                 // exists elsewhere
)

// lookupApp asks GetApp (one call, no retries) about the app name. With
// expected set (an app this deploy created, or one a resumed record names)
// 401, 403 and 404 all mean "not visible yet": Fly answers them while a new
// app propagates, and fly-go's own WaitForApp retries on 404 and 401
// (flaps/flaps_apps.go).
func (d *driver) lookupApp(ctx context.Context, expected bool) (appState, error) {
	var app *flaps.App
	err := d.try(ctx, 0, func(ctx context.Context) (err error) {
		app, err = d.l.client.GetApp(ctx, d.spec.App)
		return err
	})
	switch s := statusOf(err); {
	case err == nil && app == nil, s == http.StatusNotFound:
		return appAbsent, nil
	case err == nil:
		ours, err := d.inOurOrg(ctx, app)
		if ours || err != nil {
			d.appID, d.appNumID = app.ID, int64(app.InternalNumericID)
			return appOurs, err
		}
		return appForeign, nil
	case expected && (s == http.StatusUnauthorized || s == http.StatusForbidden):
		return appAbsent, nil
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return d.probeForeign(ctx, err)
	default:
		return appAbsent, err
	}
}

// probeForeign tells a name another org holds (403, or 401 on older APIs)
// from a token that cannot read anything: ask for a name nobody has.
func (d *driver) probeForeign(ctx context.Context, err error) (appState, error) {
	perr := d.try(ctx, 0, func(ctx context.Context) error {
		_, err := d.l.client.GetApp(ctx, "flylaunch-probe-no-such-app")
		return err
	})
	if statusOf(perr) == http.StatusNotFound {
		return appForeign, nil
	}
	return appAbsent, err
}

// inOurOrg reports whether app is in the deploy's org. Fly names the
// personal org "personal" in answers whatever slug it was created under
// (flyctl's plan_builder and AliasedOrganizationSlug), so slugs are
// compared in the canonical form Fly answers with: learned from our own
// CreateApp, or asked for once by listing the org's apps.
func (d *driver) inOurOrg(ctx context.Context, app *flaps.App) (bool, error) {
	slug := app.Organization.Slug
	if slug == "" || slug == d.spec.Org {
		return true, nil
	}
	if canon, ok := d.l.orgs.canonical(d.spec.Org); ok {
		return canon == slug, nil
	}
	var apps []flaps.App
	err := d.try(ctx, 0, func(ctx context.Context) (err error) {
		apps, err = d.l.client.ListApps(ctx, flaps.ListAppsRequest{OrgSlug: d.spec.Org})
		return err
	})
	if err != nil {
		return false, err
	}
	for _, a := range apps {
		d.l.orgs.learn(d.spec.Org, a.Organization.Slug)
		if a.Name == app.Name {
			return true, nil
		}
	}
	return false, nil
}

// orgAliases remembers the canonical slug Fly answers for the slugs
// deploys name their org by.
type orgAliases struct {
	mu    sync.Mutex
	canon map[string]string
}

func (o *orgAliases) learn(slug, canonical string) {
	if canonical == "" || canonical == slug {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.canon == nil {
		o.canon = map[string]string{}
	}
	o.canon[slug] = canonical
}

func (o *orgAliases) canonical(slug string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.canon[slug]
	return c, ok
}

// same reports whether two slugs name one org, as far as Fly told us.
func (o *orgAliases) same(a, b string) bool {
	if a == b {
		return true
	}
	ca, oka := o.canonical(a)
	cb, okb := o.canonical(b)
	return oka && ca == b || okb && cb == a || oka && okb && ca == cb
}

// appExists checks the name for Start, with retries: any existing app,
// ours or not, means the name is taken for a new deploy.
func (d *driver) appExists(ctx context.Context) (bool, error) {
	var st appState
	err := d.retry(ctx, "check app name "+d.spec.App, func(ctx context.Context) (err error) {
		st, err = d.lookupApp(ctx, false)
		return err
	})
	return st != appAbsent, err
}

func (d *driver) nameTaken(op string, err error) error {
	return &APIError{Step: d.step, Op: op, Status: statusOf(err), RequestID: requestID(err), Err: err, kind: ErrNameTaken}
}

// createApp creates the app of a new deploy and waits until GetApp sees
// it; a resumed deploy only confirms that its app exists (confirmApp).
// A conflict on the first attempt means the name was taken since Start
// checked it, even by our own org: two launches of one name never share an
// app. Only after an attempt of ours that may have been applied (its answer
// was lost) is a conflict read as our own app, once it shows up in our
// org; it is then not proven ours (Record.AppCreated stays false), so
// Delete will never delete it.
func (d *driver) createApp(ctx context.Context) error {
	if d.resumed {
		return d.confirmApp(ctx)
	}
	op := "create app " + d.spec.App
	ambiguous := false
	err := d.retry(ctx, op, func(ctx context.Context) error {
		if ambiguous { // look before creating again; a conflict is handled below
			switch st, err := d.lookupApp(ctx, true); {
			case err != nil:
				return err
			case st == appOurs:
				return nil
			}
		}
		var app *flaps.App
		err := d.try(ctx, 0, func(ctx context.Context) (err error) {
			app, err = d.l.client.CreateApp(ctx, flaps.CreateAppRequest{Name: d.spec.App, Org: d.spec.Org})
			return err
		})
		switch {
		case err == nil:
			d.rec.AppCreated = true
			if app != nil {
				d.l.orgs.learn(d.spec.Org, app.Organization.Slug)
				d.rec.AppID, d.rec.AppNumericID = app.ID, int64(app.InternalNumericID)
			}
		case isNameConflict(err) && ambiguous:
			return d.adoptAfterConflict(ctx, op, err)
		case isNameConflict(err):
			return d.nameTaken(op, err)
		case statusOf(err) == http.StatusUnprocessableEntity:
			return newAPIError(d.step, op, 1, err) // some other validation failure
		default:
			ambiguous = true
		}
		return err
	})
	if err != nil {
		return err
	}
	d.visibleBy = time.Now().Add(d.l.propagation)
	switch st, err := d.awaitApp(ctx, op); {
	case err != nil:
		return err
	case st == appForeign:
		return d.nameTaken(op, nil)
	case st == appAbsent:
		return newAPIError(d.step, op, 1, errors.New("app not visible after creation"))
	}
	d.recordAppID()
	return nil
}

// adoptAfterConflict handles a name conflict after an attempt of ours that
// may have been applied: the app is ours if it shows up in our org.
func (d *driver) adoptAfterConflict(ctx context.Context, op string, conflict error) error {
	st, err := d.awaitApp(ctx, op)
	switch {
	case err != nil:
		return err
	case st == appOurs:
		return nil
	}
	return d.nameTaken(op, conflict)
}

// isNameConflict reports Fly's answer to a taken app name: 409, or 422 with
// the name_taken status (or its "has already been taken" text).
func isNameConflict(err error) bool {
	switch statusOf(err) {
	case http.StatusConflict:
		return true
	case http.StatusUnprocessableEntity:
		var fe *flaps.FlapsError
		if errors.As(err, &fe) {
			if code := fe.StatusCode(); code != nil && *code == "name_taken" {
				return true
			}
		}
		return strings.Contains(err.Error(), "taken")
	}
	return false
}

// confirmApp checks, for a resumed deploy, that the app its record names
// exists in the deploy's org, giving an app created a moment ago (by the
// process that started the deploy) time to become visible. A resume never
// creates the app: one that does not appear, or that another org now owns,
// ends the deploy with ErrGone (ErrNameTaken before the first step, whose
// create lost a race for the name).
func (d *driver) confirmApp(ctx context.Context) error {
	op := "find app " + d.spec.App
	st, err := d.awaitApp(ctx, op)
	switch {
	case err != nil:
		return err
	case st == appForeign && d.rec.Step == "":
		return d.nameTaken(op, nil)
	case st == appForeign:
		return d.gone(op, errors.New("the app belongs to another organization"))
	case st == appAbsent:
		return d.gone(op, errors.New("app not found"))
	case d.replaced():
		return d.gone(op, errReplaced)
	}
	d.recordAppID()
	return nil
}

// recordAppID keeps the app's IDs in the record: the ones our own create
// answered, else the ones seen in our org. A record from before numeric
// IDs were kept learns its app's numeric ID once the app it names is seen.
func (d *driver) recordAppID() {
	if d.rec.AppID == "" {
		d.rec.AppID = d.appID
	}
	if d.rec.AppNumericID == 0 && d.rec.AppID == d.appID {
		d.rec.AppNumericID = d.appNumID
	}
}

// errReplaced says the app of the launch's name is not the launch's.
var errReplaced = errors.New("an app of that name exists, but it is not the launch's: the launch's app was deleted and its name taken again")

// replaced reports whether the app last seen in our org under the
// launch's name is another than the one the record names.
func (d *driver) replaced() bool {
	return d.rec.AppID != "" && d.appID != "" && d.appID != d.rec.AppID
}

// findOwnApp reads whether the launch's own app still exists: false when
// no app of its name is in our org, an error matching ErrGone when the
// app of its name is another one (see Record.AppID).
func (d *driver) findOwnApp(ctx context.Context) (bool, error) {
	op := "check app " + d.spec.App
	var st appState
	err := d.retry(ctx, op, func(ctx context.Context) (err error) {
		st, err = d.lookupApp(ctx, false)
		return err
	})
	switch {
	case err != nil || st != appOurs:
		return false, err
	case d.replaced():
		return false, d.gone(op, errReplaced)
	}
	return true, nil
}

// awaitApp polls GetApp until it sees the app in or out of our org, for up
// to the propagation bound, and returns what it saw last. An app still
// answering 401/403 when the bound has passed is looked at once more as a
// name someone else holds.
func (d *driver) awaitApp(ctx context.Context, op string) (appState, error) {
	limit := time.Now().Add(d.l.propagation)
	for {
		late := time.Now().After(limit)
		var st appState
		err := d.retry(ctx, op, func(ctx context.Context) (err error) {
			st, err = d.lookupApp(ctx, !late)
			return err
		})
		if err != nil || st != appAbsent || late {
			return st, err
		}
		if err := sleep(ctx, d.l.pollInterval); err != nil {
			return st, err
		}
	}
}
