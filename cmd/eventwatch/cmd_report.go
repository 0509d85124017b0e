package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/report"
)

// reportFlags are the flags of `eventwatch report`.
type reportFlags struct {
	url       string
	week      string
	format    string
	service   string
	team      string
	tz        string
	tokenFile string
	list      bool
	timeout   time.Duration
}

func parseReportFlags(args []string, stderr io.Writer) (reportFlags, error) {
	var f reportFlags
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: eventwatch report [--url URL] [--week 2026-W47] [--format "+report.FormatChoices()+"] [--service S] [--team T] [--tz ZONE] [--token-file F] [--list]")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.url, "url", "http://127.0.0.1:9779", "base URL of a running eventwatch")
	fs.StringVar(&f.week, "week", "", "ISO week, e.g. 2026-W47 (default: the current week, or the latest with data)")
	fs.StringVar(&f.format, "format", "md", "output format: "+report.FormatNames())
	fs.StringVar(&f.service, "service", "", "report on one producing service only")
	fs.StringVar(&f.team, "team", "", "report on what one team owns only (its services, topics, groups, DLQs)")
	fs.StringVar(&f.tz, "tz", "", "IANA time zone the week is cut in (default: the server's)")
	fs.StringVar(&f.tokenFile, "token-file", "", "file holding the bearer token of /api/*")
	fs.BoolVar(&f.list, "list", false, "list the weeks with data instead of printing a report")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "HTTP request timeout")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if _, ok := report.LookupFormat(f.format); !ok {
		return f, fmt.Errorf("--format must be %s, not %q", report.FormatNames(), f.format)
	}
	if f.week != "" {
		if _, err := report.ParseWeek(f.week); err != nil {
			return f, fmt.Errorf("--week: %w", err)
		}
	}
	if u, err := url.Parse(f.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return f, fmt.Errorf("--url must be an http(s) URL, not %q", f.url)
	}
	return f, nil
}

// requestURL builds the API URL for f.
func (f reportFlags) requestURL() string {
	base := strings.TrimRight(f.url, "/")
	q := url.Values{}
	if f.tz != "" {
		q.Set("tz", f.tz)
	}
	if f.list {
		return base + "/api/v1/reports?" + q.Encode()
	}
	q.Set("format", f.format)
	if f.week != "" {
		q.Set("week", f.week)
	}
	if f.service != "" {
		q.Set("service", f.service)
	}
	if f.team != "" {
		q.Set("team", f.team)
	}
	return base + "/api/v1/reports/weekly?" + q.Encode()
}

// cmdReport prints a weekly report fetched from a running instance: exit 0
// on success, 1 when the server could not answer, 2 on usage errors.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseReportFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch report: %v\n", err)
		return 2
	}
	if err := fetchReport(ctx, f, stdout); err != nil {
		fmt.Fprintf(stderr, "eventwatch report: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError is a 400 from the server (the request itself was wrong), or
// a 404 for a filter naming an unknown team, service, rule or topic.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func fetchReport(ctx context.Context, f reportFlags, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	resp, err := apiGet(ctx, f.url, f.requestURL(), f.tokenFile, "")
	var se *statusError
	if errors.As(err, &se) && (se.code == http.StatusBadRequest || se.code == http.StatusNotFound) {
		return usageError{se.text}
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(stdout, resp.Body); err != nil {
		return fmt.Errorf("read report: %w", err)
	}
	return nil
}
