package alerts

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestThresholdTableCoversOptions: every float or duration field of Options
// (the thresholds and windows) has exactly one line in the threshold table,
// so a new threshold cannot miss its flag, default, validation or docs line.
func TestThresholdTableCoversOptions(t *testing.T) {
	notThresholds := map[string]bool{"EvaluationInterval": true}
	var o Options
	field := map[uintptr]string{}
	v := reflect.ValueOf(&o).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.Anonymous || notThresholds[f.Name] {
			continue
		}
		if f.Type == reflect.TypeOf(float64(0)) || f.Type == reflect.TypeOf(time.Duration(0)) {
			field[v.Field(i).Addr().Pointer()] = f.Name
		}
	}
	seen := map[string]int{}
	for _, th := range thresholds {
		var p uintptr
		if th.kind == kindDuration {
			p = reflect.ValueOf(th.dur(&o)).Pointer()
		} else {
			p = reflect.ValueOf(th.ratio(&o)).Pointer()
		}
		seen[field[p]]++
	}
	for _, name := range field {
		if seen[name] != 1 {
			t.Errorf("Options.%s has %d lines in the threshold table (thresholds.go), want 1", name, seen[name])
		}
	}
}

// TestThresholdFlagsSetOptions: each threshold's flag parses into its field
// and an out-of-range value is named by Validate.
func TestThresholdFlagsSetOptions(t *testing.T) {
	for _, th := range thresholds {
		o := DefaultOptions()
		fs := flag.NewFlagSet("generate", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		RegisterFlags(fs, &o)
		good, bad := "0.5", "-1"
		if th.kind == kindDuration {
			good, bad = "7m", "0s"
		}
		if err := fs.Parse([]string{"--" + th.Flag, good}); err != nil {
			t.Fatalf("--%s %s: %v", th.Flag, good, err)
		}
		if err := o.Validate(); err != nil {
			t.Errorf("--%s %s: %v", th.Flag, good, err)
		}
		if th.kind == kindDuration && *th.dur(&o) != 7*time.Minute || th.kind != kindDuration && *th.ratio(&o) != 0.5 {
			t.Errorf("--%s %s did not reach its field", th.Flag, good)
		}
		if err := fs.Parse([]string{"--" + th.Flag, bad}); err != nil {
			t.Fatal(err)
		}
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), th.Name) {
			t.Errorf("--%s %s: Validate = %v, want an error naming %q", th.Flag, bad, err, th.Name)
		}
	}
}
