// Command testsum reads `go test -json` on stdin and prints what plain
// `go test` prints (one ok/FAIL line per package, the output of failed
// tests) followed by every skipped test with its reason, so that a skip
// is never hidden behind a package's "ok". It exits 1 when any package or
// test failed, 0 otherwise. `make test` pipes into it:
//
//	go test -json ./... | go run ./scripts/testsum
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of test2json output (go doc test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	Elapsed    float64
	ImportPath string
}

// summary accumulates a run.
type summary struct {
	out     map[string][]string // output lines per package/test key
	skipped []string
	failed  bool
	passes  int // tests (and subtests) that passed
	fails   int // tests (and subtests) that failed
}

func main() {
	s, err := read(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsum: %v\n", err)
		os.Exit(2)
	}
	s.report(os.Stdout)
	if s.failed {
		os.Exit(1)
	}
}

// read consumes the JSON stream, printing package results to w as they end.
func read(r io.Reader, w io.Writer) (*summary, error) {
	s := &summary{out: map[string][]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintln(w, string(line)) // not test2json: pass it through
			continue
		}
		s.handle(e, w)
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("read go test output: %w", err)
	}
	return s, nil
}

func (s *summary) handle(e event, w io.Writer) {
	key := e.Package + " " + e.Test
	switch e.Action {
	case "output", "build-output":
		if e.Action == "build-output" {
			key = e.ImportPath + " "
		}
		s.out[key] = append(s.out[key], e.Output)
	case "build-fail":
		s.failed = true
		fmt.Fprint(w, strings.Join(s.out[e.ImportPath+" "], ""))
	case "skip":
		if e.Test != "" {
			s.skipped = append(s.skipped, e.Package+" "+e.Test+": "+reason(s.out[key]))
		}
	case "fail":
		s.failed = true
		if e.Test != "" {
			s.fails++
			fmt.Fprint(w, strings.Join(s.out[key], ""))
			return
		}
		fmt.Fprint(w, strings.Join(tail(s.out[key]), ""))
		fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
	case "pass":
		if e.Test != "" {
			s.passes++
		}
		if e.Test == "" {
			fmt.Fprintf(w, "ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
		}
	}
	if e.Test != "" && (e.Action == "pass" || e.Action == "skip") {
		delete(s.out, key)
	}
}

// tail is the package-level output worth showing on failure (a panic, a
// timeout, TestMain's messages), without go test's own PASS/FAIL lines.
func tail(lines []string) []string {
	var keep []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "PASS" || t == "FAIL" || strings.HasPrefix(t, "FAIL\t") || strings.HasPrefix(t, "ok  \t") {
			continue
		}
		keep = append(keep, l)
	}
	return keep
}

// reason is the skip message: the output lines between "=== RUN" and
// "--- SKIP", trimmed.
func reason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		msg = append(msg, t)
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return strings.Join(msg, " ")
}

// report prints the skipped tests with their reasons, then one closing
// line "tests: N passed, N failed, N skipped" (tests and subtests).
func (s *summary) report(w io.Writer) {
	if len(s.skipped) == 0 {
		fmt.Fprintln(w, "no test skipped")
	} else {
		sort.Strings(s.skipped)
		fmt.Fprintf(w, "\n%d skipped test(s) (set REQUIRE_TOOLS=1 to make a missing tool fail; .ci/run does):\n", len(s.skipped))
		for _, l := range s.skipped {
			fmt.Fprintln(w, "  SKIP "+l)
		}
	}
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped\n", s.passes, s.fails, len(s.skipped))
}
