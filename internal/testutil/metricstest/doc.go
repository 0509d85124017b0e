package metricstest

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// Recorder is a Registry that also remembers the name of every metric
// registered on it (from each collector's descriptors, so a vector with no
// children yet counts too). Hand it to a component's constructor, then
// compare Names with the package documentation (CheckDocMetrics).
type Recorder struct {
	*prometheus.Registry
	mu    sync.Mutex
	names map[string]bool
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{Registry: prometheus.NewRegistry(), names: map[string]bool{}}
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Register registers c and records its metric names.
func (r *Recorder) Register(c prometheus.Collector) error {
	if err := r.Registry.Register(c); err != nil {
		return err //nolint:wrapcheck // the Registerer contract: AlreadyRegisteredError must stay matchable
	}
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	r.mu.Lock()
	defer r.mu.Unlock()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.names[m[1]] = true
		}
	}
	return nil
}

// MustRegister registers every collector, panicking on error like
// prometheus.Registry.MustRegister.
func (r *Recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err) //nolint:forbidigo // the MustRegister contract
		}
	}
}

// Names returns the recorded metric names, sorted.
func (r *Recorder) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.names))
	for n := range r.names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// docLine is one entry of a package doc's metric list:
//
//	eventwatch_name{label,label}   kind
var docLine = regexp.MustCompile(`^//\s+(eventwatch_[a-z0-9_]+)(\{([a-z_,]*)\})?(\s+(counter|gauge|histogram))?\s*$`)

// DocMetrics parses the "# Metrics" section of a package doc file: one
// metric a line, indented, as name{labels} and optionally its kind. It
// returns name -> the line's labels (nil without braces) and kind.
func DocMetrics(t testing.TB, docFile string) map[string]DocMetric {
	t.Helper()
	f, err := os.Open(docFile)
	if err != nil {
		t.Fatalf("open %s: %v", docFile, err)
	}
	defer f.Close()
	out := map[string]DocMetric{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "// # Metrics":
			in = true
		case in && (strings.HasPrefix(line, "// # ") || !strings.HasPrefix(line, "//")):
			in = false
		case in:
			if m := docLine.FindStringSubmatch(line); m != nil {
				var labels []string
				if m[3] != "" {
					labels = strings.Split(m[3], ",")
				}
				out[m[1]] = DocMetric{Labels: labels, Kind: metrics.Kind(m[5])}
			}
		}
	}
	return out
}

// DocList renders names as the lines of a "# Metrics" list, from the
// catalogue: name{labels} and kind, aligned. CheckDocMetrics prints it when
// the list is wrong, so the fix is a paste.
func DocList(names []string) string {
	catalogue := map[string]metrics.Spec{}
	for _, s := range metrics.All() {
		catalogue[s.Name] = s
	}
	var rows []string
	width := 0
	for _, n := range names {
		s := catalogue[n]
		row := n
		if len(s.Labels) > 0 {
			row += "{" + strings.Join(s.Labels, ",") + "}"
		}
		rows = append(rows, row)
		width = max(width, len(row))
	}
	var b strings.Builder
	for i, row := range rows {
		fmt.Fprintf(&b, "//\t%-*s  %s\n", width, row, catalogue[names[i]].Kind)
	}
	return b.String()
}

// DocMetric is one entry of a package doc's metric list.
type DocMetric struct {
	Labels []string     // as written in braces
	Kind   metrics.Kind // "" when the line names none
}

// CheckDocMetrics fails unless the "# Metrics" list of docFile names exactly
// the metrics registered (names, e.g. Recorder.Names()), each with the
// labels, in order, and the kind (when written) of its catalogue entry in
// internal/metrics.
func CheckDocMetrics(t testing.TB, docFile string, registered []string) {
	t.Helper()
	doc := DocMetrics(t, docFile)
	defer func() {
		if t.Failed() {
			t.Logf("the list %s should hold (under // # Metrics):\n%s", docFile, DocList(registered))
		}
	}()
	if len(doc) == 0 {
		t.Errorf("%s has no metric list under a \"# Metrics\" heading", docFile)
	}
	catalogue := map[string]metrics.Spec{}
	for _, s := range metrics.All() {
		catalogue[s.Name] = s
	}
	for _, n := range registered {
		if _, ok := doc[n]; !ok {
			t.Errorf("%s: the package registers %s but its # Metrics list does not name it", docFile, n)
		}
	}
	for n, d := range doc {
		if !slices.Contains(registered, n) {
			t.Errorf("%s: # Metrics names %s, which the package does not register", docFile, n)
		}
		s, ok := catalogue[n]
		if !ok {
			t.Errorf("%s: # Metrics names %s, which is not in the catalogue (internal/metrics)", docFile, n)
			continue
		}
		if !slices.Equal(d.Labels, s.Labels) {
			t.Errorf("%s: %s{%s} in the doc, the catalogue has {%s}", docFile, n, strings.Join(d.Labels, ","), strings.Join(s.Labels, ","))
		}
		if d.Kind != "" && d.Kind != s.Kind {
			t.Errorf("%s: %s is a %s in the doc, a %s in the catalogue", docFile, n, d.Kind, s.Kind)
		}
	}
}
