package flylaunch

import (
	"context"
	"net"

	"github.com/superfly/fly-go/flaps"
)

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
