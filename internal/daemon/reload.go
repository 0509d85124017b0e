package daemon

import (
	"context"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/config"
)

// reloadLoop reloads the configuration file on every value of opts.Reload.
func (d *daemon) reloadLoop(ctx context.Context) error {
	if d.opts.Reload == nil {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.opts.Reload:
			d.reload()
		}
	}
}

// reload re-reads and validates the file, and applies what can change
// without a restart: the audit section (profiles, policies, catalog,
// overrides), the teams and the log level. Other changed sections are named in a
// warning and take effect at the next start. A file that fails keeps the
// running configuration.
func (d *daemon) reload() {
	if d.opts.ConfigPath == "" {
		d.log.Warn("reload requested but the daemon was not started from a file")
		return
	}
	next, err := config.Load(d.opts.ConfigPath)
	if err == nil {
		err = d.apply(next)
	}
	if err != nil {
		d.reloadOK.Set(0)
		d.log.Error("reload failed; keeping the running configuration", "err", err)
		return
	}
	d.reloadOK.Set(1)
	for _, note := range next.Deprecations {
		d.log.Warn("deprecated configuration key", "detail", note)
	}
	d.log.Info("configuration reloaded", "file", d.opts.ConfigPath)
}

func (d *daemon) apply(next *config.Config) error {
	r, err := buildRouter(next.Audit, d.root, d.dlqOwner)
	if err != nil {
		return err
	}
	d.auditor.cur.Store(r)
	d.learner.SetDataPaths(dataPaths(r))
	d.applyOwnership(next.Teams, r)
	d.level.Set(parseLevel(next.Log.Level))
	if restart := changedSections(d.cfg, next, "audit", "log", "teams"); len(restart) > 0 {
		d.log.Warn("changed sections take effect after a restart", "sections", restart)
	}
	if keys := ledgerAuditKeys(d.cfg.Audit, next.Audit); len(keys) > 0 {
		d.log.Warn("changed keys take effect in the report store's duplicate check after a restart (the engines use the new window now)", "keys", keys)
	}
	return nil
}

// ledgerAuditKeys names the audit keys that changed between a and b and
// that the ledger reads only at start: whether and for how long event ids
// are remembered in the report store.
func ledgerAuditKeys(a, b config.AuditConfig) []string {
	var out []string
	if a.DuplicateStore != b.DuplicateStore {
		out = append(out, "audit.duplicate_store")
	}
	if a.DuplicateWindow != b.DuplicateWindow && (a.DuplicateStore || b.DuplicateStore) {
		out = append(out, "audit.duplicate_window")
	}
	return out
}

// changedSections names the top-level sections whose YAML differs between
// a and b, ignoring the names in skip.
func changedSections(a, b *config.Config, skip ...string) []string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	var out []string
	for i := range va.NumField() {
		name := va.Type().Field(i).Tag.Get("yaml")
		if contains(skip, name) {
			continue
		}
		ya, _ := yaml.Marshal(va.Field(i).Interface())
		yb, _ := yaml.Marshal(vb.Field(i).Interface())
		if string(ya) != string(yb) {
			out = append(out, name)
		}
	}
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
