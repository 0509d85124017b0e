package main

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/nearest"
	"github.com/eventwatch/eventwatch/internal/store"
)

// tailFlags are the flags of `eventwatch tail`.
type tailFlags struct {
	url, rule, service, team, topic, tokenFile, format string
	max                                                int
	retryFor                                           time.Duration // give up after failing this long; 0: never
}

func parseTailFlags(args []string, stderr io.Writer) (tailFlags, error) {
	var f tailFlags
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: eventwatch tail --url URL [--rule R] [--service S] [--team T] [--topic T] [--format text|json] [--token-file F] [--max N] [--retry-for D]")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.url, "url", "http://127.0.0.1:9779", "base URL of a running eventwatch")
	fs.StringVar(&f.rule, "rule", "", "only violations of this rule id")
	fs.StringVar(&f.service, "service", "", "only violations of this producing service")
	fs.StringVar(&f.team, "team", "", "only violations of the services this team owns")
	fs.StringVar(&f.topic, "topic", "", "only violations on this topic")
	fs.StringVar(&f.format, "format", "text", "output: text (one line per violation) or json (one object per line)")
	fs.StringVar(&f.tokenFile, "token-file", "", "file holding the bearer token of /api/*")
	fs.IntVar(&f.max, "max", 0, "exit after this many violations (0: follow until interrupted)")
	fs.DurationVar(&f.retryFor, "retry-for", defaultRetryFor, "give up (exit 1) when the server cannot be reached for this long (0: retry forever)")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if f.retryFor < 0 {
		return f, fmt.Errorf("--retry-for must not be negative, got %s", f.retryFor)
	}
	if f.format != "text" && f.format != "json" {
		return f, fmt.Errorf("--format must be text or json, not %q", f.format)
	}
	if u, err := url.Parse(f.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return f, fmt.Errorf("--url must be an http(s) URL, not %q", f.url)
	}
	if err := nearest.Check("rule", f.rule, ruleIDs()); err != nil {
		return f, fmt.Errorf("--rule: %w (eventwatch rules lists them)", err)
	}
	return f, nil
}

// ruleIDs are the ids of the rule catalogue, record and cluster rules.
func ruleIDs() []string {
	rules := event.Rules()
	ids := make([]string, len(rules))
	for i, r := range rules {
		ids[i] = r.ID
	}
	return ids
}

func (f tailFlags) streamURL() string {
	q := url.Values{}
	for k, v := range map[string]string{"rule": f.rule, "service": f.service, "team": f.team, "topic": f.topic} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return strings.TrimRight(f.url, "/") + "/api/v1/violations/stream?" + q.Encode()
}

// defaultRetryFor is how long tail keeps reconnecting to a server it
// cannot reach before it gives up.
const defaultRetryFor = 2 * time.Minute

// cmdTail follows GET /api/v1/violations/stream and prints one line per
// violation; it reconnects (with backoff) when the stream ends. Exit 0 on
// interrupt or after --max violations, 1 when the server cannot be reached
// for --retry-for, 2 on usage errors (bad flags, an unknown rule id, or a
// filter the server refuses).
func cmdTail(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseTailFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch tail: %v\n", err)
		return 2
	}
	t := &tailer{f: f, out: stdout, errw: stderr}
	if err := t.run(ctx); err != nil {
		fmt.Fprintf(stderr, "eventwatch tail: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

type tailer struct {
	f       tailFlags
	out     io.Writer
	errw    io.Writer
	printed int
}

// errDone ends the tail after --max violations.
var errDone = errors.New("done")

// run follows the stream, reconnecting with backoff. The backoff and the
// --retry-for budget restart whenever a connection was established: only a
// server unreachable (or answering errors) for --retry-for ends the tail.
func (t *tailer) run(ctx context.Context) error {
	backoff := time.Second
	var failingSince time.Time
	for {
		connected, err := t.follow(ctx)
		if done(ctx, err) {
			return nil // --max reached, or interrupted: a normal end
		}
		var ue usageError
		if errors.As(err, &ue) {
			return err
		}
		now := time.Now()
		if connected || failingSince.IsZero() {
			failingSince, backoff = now, time.Second
		}
		wait, giveUp := t.nextTry(now.Sub(failingSince), backoff)
		if giveUp {
			return fmt.Errorf("giving up after %s without a stream (--retry-for %s): %w", now.Sub(failingSince).Round(time.Second), t.f.retryFor, err)
		}
		fmt.Fprintf(t.errw, "eventwatch tail: %v; reconnecting in %s\n", err, wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// nextTry returns how long to wait before the next attempt after failing
// for failing (never past the --retry-for budget), or giveUp when the
// budget is spent.
func (t *tailer) nextTry(failing, backoff time.Duration) (wait time.Duration, giveUp bool) {
	if t.f.retryFor == 0 {
		return backoff, false
	}
	left := t.f.retryFor - failing
	if left <= 0 {
		return 0, true
	}
	return min(backoff, left), false
}

// done reports whether tail ends normally: --max reached or ctx ended.
func done(ctx context.Context, err error) bool { return errors.Is(err, errDone) || ctx.Err() != nil }

// follow reads one connection's events; connected reports whether the
// server accepted the stream.
func (t *tailer) follow(ctx context.Context) (connected bool, err error) {
	resp, err := apiGet(ctx, t.f.url, t.f.streamURL(), t.f.tokenFile, "text/event-stream")
	var se *statusError
	switch {
	case errors.As(err, &se) && se.code < 500:
		return false, usageError{se.text} // the server refused the request: reconnecting will not help
	case err != nil:
		return false, fmt.Errorf("connect: %w", err)
	}
	defer resp.Body.Close()
	return true, t.read(resp.Body)
}

// read parses Server-Sent Events: "event:" and "data:" lines, a blank line
// ends an event.
func (t *tailer) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var event, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if err := t.dispatch(event, data); err != nil {
				return err
			}
			event, data = "", ""
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(line[len("event:"):])
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimPrefix(line[len("data:"):], " ")
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stream: %w", err)
	}
	return errors.New("stream ended")
}

func (t *tailer) dispatch(event, data string) error {
	switch event {
	case "dropped":
		return errors.New("the server dropped this client (it read too slowly)")
	case "violation":
	default:
		return nil
	}
	var e store.Example
	if err := json.Unmarshal([]byte(data), &e); err != nil {
		return fmt.Errorf("decode event: %w", err)
	}
	if t.f.format == "json" {
		fmt.Fprintln(t.out, data)
	} else {
		fmt.Fprintln(t.out, tailLine(e))
	}
	t.printed++
	if t.f.max > 0 && t.printed >= t.f.max {
		return errDone
	}
	return nil
}

// tailLine is one violation as `eventwatch tail` prints it:
// time, severity, rule, service (team), topic/partition@offset, event, reason.
func tailLine(e store.Example) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-7s %s %s", e.Observed.UTC().Format(time.RFC3339), e.Severity, e.Rule, e.Service)
	if e.Team != "" && e.Team != e.Service {
		fmt.Fprintf(&b, " (team %s)", e.Team)
	}
	if e.Transport != "" { // a WebSocket probe's finding: the endpoint path, no partition or offset
		fmt.Fprintf(&b, " %s %s", e.Transport, e.Topic)
	} else {
		fmt.Fprintf(&b, " %s/%d@%d", e.Topic, e.Partition, e.Offset)
	}
	if e.EventType != "" {
		b.WriteString(" type=" + e.EventType)
	}
	if e.EventID != "" {
		b.WriteString(" id=" + e.EventID)
	}
	b.WriteString(": " + e.Message)
	if e.Field != "" {
		b.WriteString(" [" + e.Field + "]")
	}
	if e.Profile != "" {
		b.WriteString(" (" + e.Profile + ")")
	}
	return b.String()
}
