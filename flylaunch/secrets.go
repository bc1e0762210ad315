package flylaunch

import (
	"context"
	"maps"
)

// setSecrets sets the spec's secrets and records the version. A resumed
// deploy (or a retry after an ambiguous failure) first lists the app's
// secrets and sets only those missing: a secret that exists is never
// overwritten, since the value a replayed record carries may be an old one.
//
// A Livebook spec without [LivebookKeyBase] gets one generated here, once
// per run of the step: it lives in this call only, and reaches Fly like
// the other secrets.
func (d *driver) setSecrets(ctx context.Context) error {
	secrets := maps.Clone(d.spec.Secrets)
	if d.spec.generatesKeyBase() {
		kb, err := d.l.keyBase()
		if err != nil {
			return err
		}
		if secrets == nil {
			secrets = Secrets{}
		}
		secrets[LivebookKeyBase] = kb
	}
	if len(secrets) == 0 {
		return nil
	}
	check := d.resumed
	return d.retry(ctx, "update app secrets", func(ctx context.Context) error {
		missing := maps.Clone(secrets)
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
