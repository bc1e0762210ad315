package flylaunch

import (
	"cmp"
	"context"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/superfly/fly-go/flaps"
)

// allocateIPs makes sure the app has a public v6 and a shared v4 address,
// checking each separately against the current assignments before (and,
// after a failure, again before) allocating it. Another driver of the
// launch (a second tab's, on another instance) may be doing the same: a
// shared v4 it got first is Fly's 422 "already has", success here; a v6
// both allocated is resolved by giveBackV6.
func (d *driver) allocateIPs(ctx context.Context) error {
	var ips []flaps.IPAssignment
	listed := false
	mine := "" // the v6 address this driver allocated, if any
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
				if err := d.listIPs(ctx, &ips); err != nil {
					return err
				}
				listed = true
			}
			if slices.ContainsFunc(ips, want.has) {
				return nil
			}
			listed = false // whatever happens next, look again before acting again
			return d.try(ctx, 0, func(ctx context.Context) error {
				// The org, as flyctl's first deploy sends it
				// (internal/command/deploy/deploy_first.go).
				ip, err := d.l.client.AssignIP(ctx, d.spec.App, flaps.AssignIPRequest{Type: want.kind, Organization: d.spec.Org})
				if err == nil && ip != nil {
					ips, listed = append(ips, *ip), true
					if want.kind == "v6" {
						mine = ip.IP
					}
				}
				if alreadyAssigned(err) {
					return nil // another driver of the launch (or a lost answer of ours) got there first
				}
				return err
			})
		})
		if err != nil {
			return err
		}
	}
	return d.giveBackV6(ctx, mine)
}

// listIPs reads the app's address assignments into ips.
func (d *driver) listIPs(ctx context.Context, ips *[]flaps.IPAssignment) error {
	return d.try(ctx, 0, func(ctx context.Context) error {
		res, err := d.l.client.GetIPAssignments(ctx, d.spec.App)
		if err == nil && res != nil {
			*ips = res.IPs
		}
		return err
	})
}

// giveBackV6 releases the v6 address this driver allocated (mine) when
// another driver of the launch allocated one too and Fly lists that one
// first (oldest, then lowest): every driver keeps the same one, and each
// releases only what it provably allocated itself.
func (d *driver) giveBackV6(ctx context.Context, mine string) error {
	if mine == "" {
		return nil
	}
	var ips []flaps.IPAssignment
	if err := d.retry(ctx, "list addresses", func(ctx context.Context) error { return d.listIPs(ctx, &ips) }); err != nil {
		return err
	}
	v6 := slices.DeleteFunc(ips, func(ip flaps.IPAssignment) bool { return !isPublicV6(ip) })
	if len(v6) < 2 {
		return nil
	}
	first := slices.MinFunc(v6, func(a, b flaps.IPAssignment) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.IP, b.IP))
	})
	if first.IP == mine {
		return nil
	}
	d.l.log.Info("flylaunch: releasing a second v6 address", "launch_id", d.rec.LaunchID, "kept", first.IP)
	return d.call(ctx, "release v6 address", func(ctx context.Context) error {
		err := d.l.client.DeleteIPAssignment(ctx, d.spec.App, mine)
		if statusOf(err) == http.StatusNotFound {
			return nil
		}
		return err
	})
}

// alreadyAssigned reports Fly's refusal of an address the app already has:
// 422 "app already has a shared IPv4 address". What it asked for exists,
// which is all this step wants.
func alreadyAssigned(err error) bool {
	return statusOf(err) == http.StatusUnprocessableEntity && strings.Contains(err.Error(), "already has")
}

func isPublicV6(ip flaps.IPAssignment) bool {
	a := net.ParseIP(ip.IP)
	return a != nil && a.To4() == nil && !ip.IsFlycast()
}

func isV4(ip flaps.IPAssignment) bool {
	a := net.ParseIP(ip.IP)
	return a != nil && a.To4() != nil
}
