package flylaunch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// appState is what GetApp says about the deploy's app name.
type appState int

const (
	appAbsent  appState = iota // 404
	appOurs                    // exists in the deploy's org
	appForeign                 // exists elsewhere (other org, or 401/403)
)

// lookupApp asks GetApp (one call, no retries) about the app name.
func (d *driver) lookupApp(ctx context.Context) (appState, error) {
	var app *flaps.App
	err := d.try(ctx, 0, func(ctx context.Context) (err error) {
		app, err = d.l.client.GetApp(ctx, d.spec.App)
		return err
	})
	switch s := statusOf(err); {
	case err == nil:
		if app == nil {
			return appAbsent, nil
		}
		if app.Organization.Slug != "" && app.Organization.Slug != d.spec.Org {
			return appForeign, nil
		}
		return appOurs, nil
	case s == http.StatusNotFound:
		return appAbsent, nil
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		// Fly answers 401 both for an app in an org the token cannot see
		// and for a bad token: tell them apart with a name nobody has.
		perr := d.try(ctx, 0, func(ctx context.Context) error {
			_, err := d.l.client.GetApp(ctx, "flylaunch-probe-no-such-app")
			return err
		})
		if statusOf(perr) == http.StatusNotFound {
			return appForeign, nil
		}
		return appAbsent, err
	default:
		return appAbsent, err
	}
}

// appExists checks the name for Start, with retries: any existing app,
// ours or not, means the name is taken for a new deploy.
func (d *driver) appExists(ctx context.Context) (bool, error) {
	var st appState
	err := d.retry(ctx, "check app name "+d.spec.App, func(ctx context.Context) (err error) {
		st, err = d.lookupApp(ctx)
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
// was lost) is an app in our org adopted; it is then not proven ours
// (Record.AppCreated stays false), so Destroy will never delete it.
func (d *driver) createApp(ctx context.Context) error {
	if d.resumed {
		return d.confirmApp(ctx)
	}
	op := "create app " + d.spec.App
	ambiguous := false
	err := d.retry(ctx, op, func(ctx context.Context) error {
		if ambiguous {
			st, err := d.lookupApp(ctx)
			switch {
			case err != nil:
				return err
			case st == appOurs:
				return nil
			case st == appForeign:
				return d.nameTaken(op, nil)
			}
		}
		err := d.try(ctx, 0, func(ctx context.Context) error {
			_, err := d.l.client.CreateApp(ctx, flaps.CreateAppRequest{Name: d.spec.App, Org: d.spec.Org})
			return err
		})
		if s := statusOf(err); s == http.StatusConflict || s == http.StatusUnprocessableEntity {
			if s == http.StatusConflict || strings.Contains(err.Error(), "taken") {
				return d.nameTaken(op, err)
			}
			return newAPIError(d.step, op, 1, err) // some other validation failure
		}
		if err == nil {
			d.rec.AppCreated = true
		}
		ambiguous = err != nil
		return err
	})
	if err != nil {
		return err
	}
	switch st, err := d.awaitApp(ctx, op); {
	case err != nil:
		return err
	case st == appForeign:
		return d.nameTaken(op, nil)
	case st == appAbsent:
		return newAPIError(d.step, op, 1, errors.New("app not visible after creation"))
	}
	return nil
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
		return d.nameTaken(op, nil) // the creation it was about to make lost a race
	case st == appForeign:
		return d.gone(op, errors.New("the app belongs to another organization"))
	case st == appAbsent:
		return d.gone(op, errors.New("app not found"))
	}
	return nil
}

// awaitApp polls GetApp until it sees the app in or out of our org, for up
// to CallTimeout, and returns what it saw last.
func (d *driver) awaitApp(ctx context.Context, op string) (appState, error) {
	limit := time.Now().Add(d.l.callTimeout)
	for {
		var st appState
		err := d.retry(ctx, op, func(ctx context.Context) (err error) {
			st, err = d.lookupApp(ctx)
			return err
		})
		if err != nil || st != appAbsent || time.Now().After(limit) {
			return st, err
		}
		if err := sleep(ctx, d.l.pollInterval); err != nil {
			return st, err
		}
	}
}

// setSecrets sets the spec's secrets and records the version. A resumed
// deploy (or a retry after an ambiguous failure) first lists the app's
// secrets and sets only those missing: a secret that exists is never
// overwritten, since the value a replayed record carries may be an old one.
func (d *driver) setSecrets(ctx context.Context) error {
	if len(d.spec.Secrets) == 0 {
		return nil
	}
	check := d.resumed
	return d.retry(ctx, "update app secrets", func(ctx context.Context) error {
		missing := maps.Clone(d.spec.Secrets)
		if check {
			if err := d.dropExistingSecrets(ctx, missing); err != nil {
				return err
			}
			if len(missing) == 0 {
				return nil
			}
		}
		check = true
		values := make(map[string]*string, len(missing))
		for k, v := range missing {
			values[k] = &v
		}
		return d.try(ctx, 0, func(ctx context.Context) error {
			resp, err := d.l.client.UpdateAppSecrets(ctx, d.spec.App, values)
			if err == nil {
				d.rec.SecretsVersion = resp.Version
			}
			return err
		})
	})
}

// dropExistingSecrets removes from secrets the names the app already has.
func (d *driver) dropExistingSecrets(ctx context.Context, secrets Secrets) error {
	return d.try(ctx, 0, func(ctx context.Context) error {
		have, err := d.l.client.ListAppSecrets(ctx, d.spec.App, nil, false)
		for _, s := range have {
			delete(secrets, s.Name)
		}
		return err
	})
}

// allocateIPs makes sure the app has a public v6 and a shared v4 address,
// checking each separately against the current assignments before (and,
// after a failure, again before) allocating it.
func (d *driver) allocateIPs(ctx context.Context) error {
	var ips []flaps.IPAssignment
	listed := false
	list := func(ctx context.Context) error {
		return d.try(ctx, 0, func(ctx context.Context) error {
			res, err := d.l.client.GetIPAssignments(ctx, d.spec.App)
			if err == nil && res != nil {
				ips, listed = res.IPs, true
			}
			return err
		})
	}
	for _, want := range []struct {
		kind string
		has  func(flaps.IPAssignment) bool
	}{
		{"v6", isPublicV6},
		{"shared_v4", isV4},
	} {
		op := "assign " + want.kind + " address"
		err := d.retry(ctx, op, func(ctx context.Context) error {
			if !listed {
				if err := list(ctx); err != nil {
					return err
				}
			}
			for _, ip := range ips {
				if want.has(ip) {
					return nil
				}
			}
			listed = false // whatever happens next, look again before acting again
			return d.try(ctx, 0, func(ctx context.Context) error {
				ip, err := d.l.client.AssignIP(ctx, d.spec.App, flaps.AssignIPRequest{Type: want.kind})
				if err == nil && ip != nil {
					ips, listed = append(ips, *ip), true
				}
				return err
			})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func isPublicV6(ip flaps.IPAssignment) bool {
	a := net.ParseIP(ip.IP)
	return a != nil && a.To4() == nil && !ip.IsFlycast()
}

func isV4(ip flaps.IPAssignment) bool {
	a := net.ParseIP(ip.IP)
	return a != nil && a.To4() != nil
}

// launchMachine launches the machine unless one carrying our launch ID
// exists (found with List's metadata filter, as flyctl does after an
// ambiguous create).
func (d *driver) launchMachine(ctx context.Context) error {
	if d.rec.MachineID != "" {
		return nil
	}
	in, err := launchInput(d.spec, d.rec.LaunchID, d.rec.SecretsVersion)
	if err != nil {
		return err
	}
	check := d.resumed
	return d.retry(ctx, "launch machine", func(ctx context.Context) error {
		if check {
			m, err := d.findMachine(ctx)
			if err != nil {
				return err
			}
			if m != nil {
				d.rec.MachineID = m.ID
				return nil
			}
		}
		check = true
		err := d.try(ctx, 0, func(ctx context.Context) error {
			m, err := d.l.client.Launch(ctx, d.spec.App, in)
			if err == nil {
				if m == nil || m.ID == "" {
					return errors.New("launch returned no machine ID")
				}
				d.rec.MachineID = m.ID
			}
			return err
		})
		if statusOf(err) == http.StatusConflict {
			// The machine name carries the launch ID: an earlier attempt
			// of ours (its response lost) created it.
			m, ferr := d.findMachine(ctx)
			if ferr == nil && m != nil {
				d.rec.MachineID = m.ID
				return nil
			}
		}
		return err
	})
}

// findMachine returns the active machine whose metadata carries the launch
// ID, or nil.
func (d *driver) findMachine(ctx context.Context) (*fly.Machine, error) {
	ms, err := d.listMachines(ctx)
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	if len(ms) > 1 {
		d.l.log.Warn("flylaunch: several machines carry one launch ID", "launch_id", d.rec.LaunchID, "count", len(ms))
	}
	return ms[0], nil
}

// listMachines lists the active machines carrying the launch ID.
func (d *driver) listMachines(ctx context.Context) ([]*fly.Machine, error) {
	var all []*fly.Machine
	filter := "metadata." + MetadataKey + "=" + url.QueryEscape(d.rec.LaunchID)
	err := d.try(ctx, 0, func(ctx context.Context) (err error) {
		all, err = d.l.client.List(ctx, d.spec.App, filter)
		return err
	})
	if err != nil {
		return nil, err
	}
	var ours []*fly.Machine
	for _, m := range all { // the filter is server-side; check anyway
		if m != nil && m.IsActive() && m.GetMetadataByKey(MetadataKey) == d.rec.LaunchID {
			ours = append(ours, m)
		}
	}
	return ours, nil
}

// maxWait is the longest wait the Machines API accepts in one call.
const maxWait = 60 * time.Second

// waitStarted repeats the Machines API wait for "started" until it
// succeeds; a 408 (the wait timed out server-side) means keep waiting, up
// to the start deadline.
func (d *driver) waitStarted(parent context.Context) error {
	d.deadline = time.Now().Add(d.l.startDeadline)
	op := "wait for machine " + d.rec.MachineID + " to start"
	ctx, cancel := context.WithDeadline(parent, d.deadline)
	defer cancel()
	for round := 1; ; round++ {
		if d.resumed || round > 1 {
			// Look before waiting: a machine a resumed record names may
			// be started already, or gone.
			started, err := d.checkMachine(ctx)
			if err != nil {
				return d.startTimeout(parent, op, err)
			}
			if started {
				return nil
			}
		}
		left := time.Until(d.deadline)
		if left <= 0 {
			return d.startTimeout(parent, op, nil)
		}
		wait := min(maxWait, max(time.Second, left))
		timedOut := false
		err := d.retry(ctx, op, func(ctx context.Context) error {
			timedOut = false
			err := d.try(ctx, wait, func(ctx context.Context) error {
				return d.l.client.Wait(ctx, d.spec.App, d.rec.MachineID, flaps.WithWaitStates(fly.MachineStateStarted), flaps.WithWaitTimeout(wait))
			})
			if statusOf(err) == http.StatusRequestTimeout {
				timedOut = true
				return nil
			}
			return err
		})
		if err != nil {
			return d.startTimeout(parent, op, err)
		}
		if !timedOut {
			return nil
		}
		d.dep.emit(d.step, StatusRunning, d.percent, fmt.Sprintf("machine %s not started yet (wait %d)", d.rec.MachineID, round), nil)
	}
}

// waitHealthy polls the machine until all its health checks pass, up to
// the start deadline, starting at PollInterval and backing off to four
// times that.
func (d *driver) waitHealthy(parent context.Context) error {
	if d.deadline.IsZero() {
		d.deadline = time.Now().Add(d.l.startDeadline)
	}
	ctx, cancel := context.WithDeadline(parent, d.deadline)
	defer cancel()
	op := "get machine " + d.rec.MachineID
	last := ""
	interval := d.l.pollInterval
	for {
		var m *fly.Machine
		err := d.retry(ctx, op, func(ctx context.Context) error {
			return d.try(ctx, 0, func(ctx context.Context) (err error) {
				m, err = d.l.client.Get(ctx, d.spec.App, d.rec.MachineID)
				return err
			})
		})
		if err != nil {
			return d.startTimeout(parent, op, err)
		}
		if err := d.machineAlive(op, m); err != nil {
			return err
		}
		if m.Region != "" {
			d.rec.Region = m.Region
		}
		d.machineState = m.State
		hc := m.AllHealthChecks()
		if hc.Total > 0 && hc.AllPassing() {
			return nil
		}
		msg := fmt.Sprintf("machine %s %s, health checks %d/%d passing", m.ID, m.State, hc.Passing, hc.Total)
		if msg != last {
			d.dep.emit(d.step, StatusRunning, d.percent+5, msg, nil)
			last = msg
		}
		if time.Now().Add(interval).After(d.deadline) {
			return &APIError{Step: d.step, Op: op, Err: errors.New(msg), kind: ErrStartTimeout}
		}
		if err := sleep(ctx, interval); err != nil {
			return d.startTimeout(parent, op, err)
		}
		// Checks take a grace period and then run every few seconds, so
		// back off (up to 4 intervals) rather than poll at a fixed pace.
		interval = min(interval*3/2, 4*d.l.pollInterval)
	}
}

// checkMachine reads the machine once and reports whether it is started;
// a destroyed machine is an error (machineAlive).
func (d *driver) checkMachine(ctx context.Context) (started bool, err error) {
	m, err := d.getMachine(ctx)
	if err != nil {
		return false, err
	}
	if err := d.machineAlive("get machine "+d.rec.MachineID, m); err != nil {
		return false, err
	}
	return m.State == fly.MachineStateStarted, nil
}

// machineAlive returns an error if m was destroyed: ErrGone for a resumed
// deploy (someone removed it since), a plain failure otherwise.
func (d *driver) machineAlive(op string, m *fly.Machine) error {
	if m.IsActive() {
		return nil
	}
	err := fmt.Errorf("machine %s is %s", m.ID, m.State)
	if d.resumed {
		return d.gone(op, err)
	}
	return &APIError{Step: d.step, Op: op, Err: err}
}

// startTimeout maps the start deadline's expiry (err nil or
// context.DeadlineExceeded while parent is alive) to ErrStartTimeout and
// returns any other err as is.
func (d *driver) startTimeout(parent context.Context, op string, err error) error {
	if err != nil && (parent.Err() != nil || !errors.Is(err, context.DeadlineExceeded)) {
		return err
	}
	return &APIError{Step: d.step, Op: op, kind: ErrStartTimeout}
}

func requestID(err error) string {
	var fe *flaps.FlapsError
	if errors.As(err, &fe) {
		return fe.FlyRequestId
	}
	var le *LostResponseError
	if errors.As(err, &le) {
		return le.RequestID
	}
	return ""
}
