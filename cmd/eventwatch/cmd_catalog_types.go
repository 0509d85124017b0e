package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/readers"
)

// fetchTypes GETs /api/v1/types, filtered to typ (and version) when set.
func (r *remoteFlags) fetchTypes(ctx context.Context, typ, version string) (readers.Estate, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	q := url.Values{}
	if typ != "" {
		q.Set("type", typ)
	}
	if version != "" {
		q.Set("version", version)
	}
	u := strings.TrimRight(r.url, "/") + "/api/v1/types"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var e readers.Estate
	resp, err := apiGet(ctx, r.url, u, r.tokenFile, "application/json")
	if err != nil {
		return e, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&e); err != nil {
		return e, fmt.Errorf("read /api/v1/types: %w", err)
	}
	return e, nil
}

// remoteFailure reports err from reaching the instance: 2 for a usage
// error (a bad token file), else 1.
func remoteFailure(stderr io.Writer, sub string, err error) int {
	fmt.Fprintf(stderr, "eventwatch catalog %s: %v\n", sub, err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// cmdCatalogVersions prints, per type and version, its producers and
// readers with when each was last seen, and the retirement verdict: exit
// 0 when answered, 1 when the instance could not answer, 2 on usage errors.
func cmdCatalogVersions(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newRemoteCmd("versions", stderr)
	typ := c.fs.String("type", "", "only this event type")
	format, formatOK := c.formatFlag("text", "output format: text or json", "text", "json")
	if code, ok := c.parse(args, formatOK); !ok {
		return code
	}
	e, err := c.rf.fetchTypes(ctx, *typ, "")
	if err != nil {
		return c.failure(err)
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(e)
		return 0
	}
	printVersions(stdout, &e)
	return 0
}

func printVersions(w io.Writer, e *readers.Estate) {
	if len(e.Types) == 0 {
		fmt.Fprintln(w, "no event type seen yet")
	}
	for _, t := range e.Types {
		fmt.Fprintf(w, "%s %s: %d events, last %s\n", t.Type, versionLabel(t.Version), t.Events, ago(e.GeneratedAt, t.LastSeen))
		for _, p := range t.Producers {
			fmt.Fprintf(w, "  producer %-28s last %s\n", p.Service, ago(e.GeneratedAt, p.LastSeen))
		}
		for _, r := range t.Readers {
			behind := ""
			if r.BehindEvents > 0 {
				behind = fmt.Sprintf(", %d unread", r.BehindEvents)
			}
			fmt.Fprintf(w, "  reader   %-28s last %s%s\n", r.Group, ago(e.GeneratedAt, r.LastRead), behind)
		}
		fmt.Fprintf(w, "  verdict  %s\n", t.Retirement.Verdict)
	}
}

func versionLabel(v string) string {
	if v == "" {
		return "(no version)"
	}
	return "v" + strings.TrimPrefix(v, "v")
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339) + " (" + now.Sub(t).Round(time.Second).String() + " ago)"
}

// impactResult is `catalog impact --format json`.
type impactResult struct {
	Type        string           `json:"type"`
	Version     string           `json:"version"`
	Days        int              `json:"days"`
	Changes     []catalog.Change `json:"changes"`
	Breaking    int              `json:"breaking"`
	LiveReaders []readers.Reader `json:"live_readers"`
	Blocked     bool             `json:"blocked"` // a breaking change hits a live reader (exit 1)
}

// cmdCatalogImpact is the change-impact gate for CI: it compares a
// proposed schema of a type and version with the observed one and lists
// the consumer groups that read it in the last --days; exit 1 when a
// breaking change hits a live reader (or the instance could not answer),
// 0 otherwise, 2 on usage or input errors.
func cmdCatalogImpact(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newRemoteCmd("impact", stderr)
	typ := c.fs.String("type", "", "event type (required)")
	version := c.fs.String("version", "", "event version (required)")
	schema := c.fs.String("schema", "", "proposed schema: JSON Schema of the data (or of the whole event), or an AsyncAPI document with the message (required)")
	days := c.fs.Int("days", 7, "a reader is live when it read the type and version within this many days")
	format, formatOK := c.formatFlag("text", "output format: text or json", "text", "json")
	required := func() error {
		switch {
		case *typ == "" || *version == "" || *schema == "":
			return errors.New("--type, --version and --schema are required")
		case *days < 1:
			return fmt.Errorf("--days must be at least 1, got %d", *days)
		}
		return nil
	}
	if code, ok := c.parse(args, required, formatOK); !ok {
		return code
	}
	proposed, err := catalog.LoadProposed(*schema, *typ, *version)
	if err != nil {
		return c.usage(err)
	}
	res, code := impact(ctx, &c.rf, proposed, *days, stderr)
	if code != 0 {
		return code
	}
	printImpact(stdout, *format, res)
	if res.Blocked {
		return 1
	}
	return 0
}

// impact fetches the observed schema and the readers and judges; a non-zero
// code is the exit code of a failure already reported.
func impact(ctx context.Context, rf *remoteFlags, proposed *catalog.Entry, days int, stderr io.Writer) (impactResult, int) {
	res := impactResult{Type: proposed.Type, Version: proposed.Version, Days: days, LiveReaders: []readers.Reader{}}
	body, err := rf.fetchAsyncAPI(ctx, "json")
	if err != nil {
		return res, remoteFailure(stderr, "impact", err)
	}
	seen, err := catalog.SeenEntries(body)
	if err != nil {
		return res, remoteFailure(stderr, "impact", fmt.Errorf("the discovered document: %w", err))
	}
	observed, ok := catalog.FindEntry(seen, proposed.Type, proposed.Version)
	if !ok {
		return res, catalogUsage(stderr, "impact", fmt.Errorf("%s %s has not been seen in traffic: nothing to compare with", proposed.Type, versionLabel(proposed.Version)))
	}
	e, err := rf.fetchTypes(ctx, proposed.Type, proposed.Version)
	if err != nil {
		return res, remoteFailure(stderr, "impact", err)
	}
	res.Changes = catalog.Impact(proposed, observed)
	if res.Changes == nil {
		res.Changes = []catalog.Change{}
	}
	for _, c := range res.Changes {
		if c.Breaking {
			res.Breaking++
		}
	}
	since := e.GeneratedAt.Add(-time.Duration(days) * 24 * time.Hour)
	if tv, ok := e.Find(proposed.Type, proposed.Version); ok {
		for _, r := range tv.Readers {
			if !r.LastRead.Before(since) {
				res.LiveReaders = append(res.LiveReaders, r)
			}
		}
	}
	res.Blocked = res.Breaking > 0 && len(res.LiveReaders) > 0
	return res, 0
}

func printImpact(w io.Writer, format string, res impactResult) {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return
	}
	fmt.Fprintf(w, "%s %s: %d breaking, %d additive change(s)\n", res.Type, versionLabel(res.Version), res.Breaking, len(res.Changes)-res.Breaking)
	for _, c := range res.Changes {
		kind := "additive"
		if c.Breaking {
			kind = "breaking"
		}
		fmt.Fprintf(w, "  %-8s %s\n", kind, c.Message)
	}
	groups := make([]string, len(res.LiveReaders))
	for i, r := range res.LiveReaders {
		groups[i] = r.Group
	}
	fmt.Fprintf(w, "readers in the last %d days: %d %s\n", res.Days, len(groups), strings.Join(groups, ", "))
	switch {
	case res.Blocked:
		fmt.Fprintf(w, "BLOCKED: a breaking change hits %s\n", strings.Join(groups, ", "))
	case res.Breaking > 0:
		fmt.Fprintln(w, "ok: breaking, but no group read it in the window")
	default:
		fmt.Fprintln(w, "ok: no breaking change")
	}
}
