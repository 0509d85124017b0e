package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/eventwatch/eventwatch/internal/dlq"
	"github.com/eventwatch/eventwatch/internal/report"
)

// cmdDLQ runs `eventwatch dlq list|show|replay`.
func cmdDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	subs := map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"list": dlqList, "show": dlqShow, "replay": dlqReplay,
	}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintln(stderr, "usage: eventwatch dlq list|show|replay --url URL [flags]  (eventwatch dlq <sub> -h for its flags)")
		return 2
	}
	return subs[args[0]](ctx, args[1:], stdout, stderr)
}

// dlqCommon are the flags every dlq subcommand has.
type dlqCommon struct {
	url, tokenFile, format string
}

func (c *dlqCommon) register(fs *flag.FlagSet, tokenHelp string) {
	fs.StringVar(&c.url, "url", "http://127.0.0.1:9779", "base URL of a running eventwatch")
	fs.StringVar(&c.tokenFile, "token-file", "", tokenHelp)
	fs.StringVar(&c.format, "format", "text", "output: text or json")
}

func (c *dlqCommon) check(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.format != "text" && c.format != "json" {
		return fmt.Errorf("--format must be text or json, not %q", c.format)
	}
	if u, err := url.Parse(c.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url must be an http(s) URL, not %q", c.url)
	}
	return nil
}

func (c *dlqCommon) endpoint(path string, q url.Values) string {
	u := strings.TrimRight(c.url, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// parseFlags parses fs and reports the exit code to return (-1: go on).
func parseFlags(fs *flag.FlagSet, args []string, c *dlqCommon, stderr io.Writer, name string, extra func() error) int {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	err := c.check(fs)
	if err == nil && extra != nil {
		err = extra()
	}
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch dlq %s: %v\n", name, err)
		return 2
	}
	return -1
}

// getJSON GETs target and decodes the answer into v; exit code 1 on a
// refusal, 2 on usage errors.
func getJSON(ctx context.Context, c *dlqCommon, target string, v any, stderr io.Writer, name string) int {
	resp, err := apiGet(ctx, c.url, target, c.tokenFile, "application/json")
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch dlq %s: %v\n", name, err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		fmt.Fprintf(stderr, "eventwatch dlq %s: decode answer: %v\n", name, err)
		return 1
	}
	return -1
}

func dlqList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c dlqCommon
	var topic, team, service, class, since string
	fs := flag.NewFlagSet("dlq list", flag.ContinueOnError)
	c.register(fs, "file holding the bearer token of /api/*")
	fs.StringVar(&topic, "topic", "", "only this dead-letter topic")
	fs.StringVar(&team, "team", "", "only dead letters of the services this team owns")
	fs.StringVar(&service, "service", "", "only dead letters of this service")
	fs.StringVar(&class, "error-class", "", "only this error class")
	fs.StringVar(&since, "since", "", "only dead letters since (RFC 3339 or a duration back from now, e.g. 24h)")
	if code := parseFlags(fs, args, &c, stderr, "list", nil); code >= 0 {
		return code
	}
	q := url.Values{}
	for k, v := range map[string]string{"team": team, "service": service, "error_class": class, "since": since} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out struct {
		Topics []dlq.TopicCauses `json:"topics"`
	}
	if topic != "" {
		var one dlq.TopicCauses
		if code := getJSON(ctx, &c, c.endpoint("/api/v1/dlq/"+url.PathEscape(topic), q), &one, stderr, "list"); code >= 0 {
			return code
		}
		out.Topics = []dlq.TopicCauses{one}
	} else if code := getJSON(ctx, &c, c.endpoint("/api/v1/dlq", q), &out, stderr, "list"); code >= 0 {
		return code
	}
	if c.format == "json" {
		return writeDLQJSON(stdout, out)
	}
	printCauses(stdout, out.Topics)
	return 0
}

func writeDLQJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return 1
	}
	return 0
}

// printCauses prints one block per topic, one line per cause.
func printCauses(w io.Writer, topics []dlq.TopicCauses) {
	if len(topics) == 0 {
		fmt.Fprintln(w, "no dead-letter topics")
		return
	}
	for _, t := range topics {
		fmt.Fprintf(w, "%s: %d dead letters (%s .. %s)\n", t.Topic, t.Records, stamp(t.FirstSeen), stamp(t.LastSeen))
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  COUNT\tTREND\tERROR CLASS\tORIGINAL TOPIC\tGROUP\tEVENT TYPE\tSERVICE\tLAST SEEN\tSAMPLE")
		for _, c := range t.Causes {
			sample := ""
			if len(c.Samples) > 0 {
				s := c.Samples[0]
				sample = fmt.Sprintf("%s/%d@%d %s", t.Topic, s.Partition, s.Offset, s.EventID)
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Count, c.Trend, c.ErrorClass, dash(c.OriginalTopic),
				dash(c.ConsumerGroup), dash(c.EventType), c.Service, stamp(c.LastSeen), sample)
		}
		_ = tw.Flush()
	}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dlqShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c dlqCommon
	var at string
	fs := flag.NewFlagSet("dlq show", flag.ContinueOnError)
	c.register(fs, "file holding the bearer token (the admin token shows the payload where dlq.show_payload allows)")
	fs.StringVar(&at, "record", "", "the dead letter: topic/partition@offset (as dlq list prints it)")
	var topic string
	var part int32
	var off int64
	extra := func() error {
		var err error
		topic, part, off, err = dlq.ParseCoordinates(at)
		if err != nil {
			return fmt.Errorf("--record: %w", err)
		}
		return nil
	}
	if code := parseFlags(fs, args, &c, stderr, "show", extra); code >= 0 {
		return code
	}
	var s dlq.Shown
	path := fmt.Sprintf("/api/v1/dlq/%s/records/%d/%d", url.PathEscape(topic), part, off)
	if code := getJSON(ctx, &c, c.endpoint(path, nil), &s, stderr, "show"); code >= 0 {
		return code
	}
	if c.format == "json" {
		return writeDLQJSON(stdout, s)
	}
	printShown(stdout, &s)
	return 0
}

func printShown(w io.Writer, s *dlq.Shown) {
	l := s.Letter
	fmt.Fprintf(w, "%s/%d@%d  %s  format %s\n", l.Topic, l.Partition, l.Offset, stamp(l.Time), l.Format)
	fmt.Fprintf(w, "owner:     %s (from %s)\nevent:     %s %s\n", dash(l.Service), dash(l.OwnerFrom), dash(l.EventType), dash(l.EventID))
	fmt.Fprintf(w, "original:  %s  group %s\n", originalRef(&l), dash(l.ConsumerGroup))
	fmt.Fprintf(w, "error:     %s\n", l.ErrorClass)
	if s.Unwrapped != "" {
		fmt.Fprintf(w, "replay:    not possible: %s\n", s.Unwrapped)
	}
	for _, m := range s.Replayed {
		fmt.Fprintf(w, "replayed:  %s by replay %s to %s at %s\n", m.State, m.ReplayID, m.Target, stamp(m.At))
	}
	fmt.Fprintf(w, "audit (%s):\n", s.Profile)
	for _, v := range s.Violations {
		fmt.Fprintf(w, "  %s %s: %s\n", v.Severity, v.Rule, v.Message)
	}
	if len(s.Violations) == 0 {
		fmt.Fprintf(w, "  compliant (no rule broken)\n")
	}
	fmt.Fprintf(w, "headers:\n")
	for _, h := range s.Headers {
		val := fmt.Sprintf("(%d bytes)", h.Bytes)
		if h.Value != nil {
			val = strconv.Quote(*h.Value)
		}
		fmt.Fprintf(w, "  %s: %s\n", h.Key, val)
	}
	fmt.Fprintf(w, "payload:   %s (key %d bytes, value %d bytes)\n", s.Payload, s.KeyBytes, s.ValueBytes)
	if s.Value != nil {
		fmt.Fprintf(w, "key:       %s\nvalue:     %s\n", *s.Key, *s.Value)
	}
}

// originalRef is the original record's place as far as the dead letter
// tells it: topic/partition@offset, topic/partition, the topic alone, or
// "-"; an unknown partition or offset (-1) is left out, never printed.
func originalRef(l *dlq.Letter) string {
	switch {
	case l.OriginalTopic == "":
		return "-"
	case l.OriginalPartition < 0:
		return l.OriginalTopic
	case l.OriginalOffset < 0:
		return fmt.Sprintf("%s/%d", l.OriginalTopic, l.OriginalPartition)
	}
	return fmt.Sprintf("%s/%d@%d", l.OriginalTopic, l.OriginalPartition, l.OriginalOffset)
}

// replayFlags are the flags of `eventwatch dlq replay`.
type replayFlags struct {
	dlqCommon
	req                       dlq.Request
	since, until, offsets, by string
	wait                      bool
}

func dlqReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f replayFlags
	fs := flag.NewFlagSet("dlq replay", flag.ContinueOnError)
	f.register(fs, "file holding the admin bearer token (dlq.replay.admin_token_file); the read token gets 403")
	fs.StringVar(&f.req.Topic, "topic", "", "dead-letter topic (required)")
	fs.StringVar(&f.req.ErrorClass, "error-class", "", "only dead letters of this error class (as dlq list prints it)")
	fs.StringVar(&f.req.EventType, "event-type", "", "only originals of this event type")
	fs.StringVar(&f.since, "since", "", "only dead letters at or after this time (RFC 3339)")
	fs.StringVar(&f.until, "until", "", "only dead letters before this time (RFC 3339)")
	fs.StringVar(&f.offsets, "offsets", "", "only these offsets: PARTITION:FROM-TO[,PARTITION:FROM-TO...] (inclusive)")
	fs.StringVar(&f.req.To, "to", "", "send every original to this topic instead of its original topic")
	fs.StringVar(&f.by, "as", "", "who asks (carried in the eventwatch-replay-by header and the audit log; default $USER)")
	fs.BoolVar(&f.req.DryRun, "dry-run", false, "list what would be sent; send nothing")
	fs.BoolVar(&f.req.Force, "force", false, "send again dead letters an earlier replay already sent")
	fs.BoolVar(&f.wait, "wait", true, "wait until the replay is done and print its result")
	if code := parseFlags(fs, args, &f.dlqCommon, stderr, "replay", f.build); code >= 0 {
		return code
	}
	return f.run(ctx, stdout, stderr)
}

// build turns the flags into the request.
func (f *replayFlags) build() error {
	if f.req.Topic == "" {
		return errors.New("--topic is required")
	}
	for name, p := range map[string]**time.Time{"--since": &f.req.Since, "--until": &f.req.Until} {
		s := map[string]string{"--since": f.since, "--until": f.until}[name]
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return fmt.Errorf("%s: want an RFC 3339 time, got %q", name, s)
		}
		*p = &t
	}
	rs, err := parseOffsets(f.offsets)
	if err != nil {
		return fmt.Errorf("--offsets: %w", err)
	}
	f.req.Offsets = rs
	f.req.RequestedBy = f.by
	if f.req.RequestedBy == "" {
		f.req.RequestedBy = envUser()
	}
	return nil
}

// parseOffsets reads PARTITION:FROM-TO[,...] (TO may be omitted: one offset).
func parseOffsets(s string) ([]dlq.OffsetRange, error) {
	var out []dlq.OffsetRange
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		p, rng, ok := strings.Cut(part, ":")
		from, to, hasTo := strings.Cut(rng, "-")
		if !hasTo {
			to = from
		}
		pn, e1 := strconv.ParseInt(p, 10, 32)
		fn, e2 := strconv.ParseInt(from, 10, 64)
		tn, e3 := strconv.ParseInt(to, 10, 64)
		if !ok || e1 != nil || e2 != nil || e3 != nil || pn < 0 || fn < 0 || tn < fn {
			return nil, fmt.Errorf("want PARTITION:FROM-TO with FROM <= TO, got %q", part)
		}
		out = append(out, dlq.OffsetRange{Partition: int32(pn), From: fn, To: tn})
	}
	return out, nil
}

func (f *replayFlags) run(ctx context.Context, stdout, stderr io.Writer) int {
	st, code := f.post(ctx, stderr)
	if code >= 0 {
		return code
	}
	if f.req.DryRun || !f.wait || st.Replay.State != "running" {
		return f.print(stdout, st)
	}
	for st.Replay.State == "running" {
		select {
		case <-ctx.Done():
			fmt.Fprintf(stderr, "eventwatch dlq replay: stopped waiting; replay %s continues in eventwatch\n", st.Replay.ID)
			return 1
		case <-time.After(500 * time.Millisecond):
		}
		if code := getJSON(ctx, &f.dlqCommon, f.endpoint("/api/v1/dlq/replays/"+st.Replay.ID, nil), &st.Replay, stderr, "replay"); code >= 0 {
			return code
		}
	}
	code = f.print(stdout, st)
	if st.Replay.State != "done" {
		return 1
	}
	return code
}

func (f *replayFlags) print(w io.Writer, st dlq.Started) int {
	if f.format == "json" {
		return writeDLQJSON(w, st)
	}
	rp := st.Replay
	fmt.Fprintf(w, "replay %s (%s) by %s: %d planned, %d sent, %d skipped as already replayed\n", rp.ID, rp.State, rp.RequestedBy, rp.Planned, rp.Sent, rp.Skipped)
	if rp.Error != "" {
		fmt.Fprintf(w, "error: %s\n", rp.Error)
	}
	if st.Note != "" {
		fmt.Fprintln(w, st.Note)
	}
	for _, it := range st.Items {
		mark := ""
		if it.Replayed {
			mark = " (already replayed)"
		}
		fmt.Fprintf(w, "  %s/%d@%d -> %s  %s %s  %s%s\n", f.req.Topic, it.Partition, it.Offset, it.Target, dash(it.EventType), dash(it.EventID), it.ErrorClass, mark)
	}
	return 0
}

// post sends the request; exit code 1 when refused, 2 on usage errors.
func (f *replayFlags) post(ctx context.Context, stderr io.Writer) (dlq.Started, int) {
	var st dlq.Started
	body, _ := json.Marshal(f.req)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.endpoint("/api/v1/dlq/replays", nil), bytes.NewReader(body))
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch dlq replay: %v\n", err)
		return st, 2
	}
	req.Header.Set("Content-Type", "application/json")
	if f.tokenFile != "" {
		tok, err := report.ReadTokenFile(f.tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "eventwatch dlq replay: %v\n", err)
			return st, 2
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch dlq replay: POST %s: %v\n", f.url, err)
		return st, 1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		fmt.Fprintf(stderr, "eventwatch dlq replay: %s answered %s: %s\n", f.url, resp.Status, strings.TrimSpace(string(b)))
		return st, 1
	}
	if err := json.Unmarshal(b, &st); err != nil {
		fmt.Fprintf(stderr, "eventwatch dlq replay: decode answer: %v\n", err)
		return st, 1
	}
	return st, -1
}

// envUser is $USER, else "eventwatch-cli".
func envUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "eventwatch-cli"
}
