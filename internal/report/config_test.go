package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/storetest"

	"github.com/eventwatch/eventwatch/internal/store"
)

func TestConfigRejectsMovedTokenKeys(t *testing.T) {
	for _, tt := range []struct {
		c    Config
		want string
	}{
		{Config{TokenFile: "/x"}, "reports.token: the token keys moved to the http section (http.token, http.token_file, http.protect_metrics)"},
		{Config{TimeZone: "Mars/Olympus"}, "reports.time_zone: unknown time zone Mars/Olympus"},
	} {
		tt.c.SetDefaults()
		if err := tt.c.Validate(); err == nil || err.Error() != tt.want {
			t.Errorf("Validate = %v, want %q", err, tt.want)
		}
	}
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tok")
	mustWrite(t, file, "  abc\n")
	empty := filepath.Join(dir, "empty")
	mustWrite(t, empty, "")
	if tok, err := ReadTokenFile(file); tok != "abc" || err != nil {
		t.Errorf("token %q %v", tok, err)
	}
	if _, err := ReadTokenFile(empty); err == nil || err.Error() != "token file "+empty+" is empty" {
		t.Errorf("empty file: %v", err)
	}
}

// TestPayloadNeverStored plants a marker in record values and checks it
// reaches neither the database files nor any rendering. (Violation messages
// are stored as examples: the audit rules write them from field paths and
// envelope identifiers only, which internal/daemon's privacy test checks
// end to end with the real engine.)
func TestPayloadNeverStored(t *testing.T) {
	dir := t.TempDir()
	st := storetest.OpenSQLite(t, dir)
	c := storetest.NewClock(mon17.Add(time.Hour))
	a, _ := newTestAggregator(t, st, store.Config{MaxExamples: 100}, c)
	obs := dataset(3, 500, c.Now())
	observeAll(a, obs)
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	const marker = "PAYLOAD-MARKER-7f3a"
	if !bytes.Contains(obs[0].Rec.Value, []byte(marker)) {
		t.Fatal("marker not planted")
	}
	r, err := Build(context.Background(), st, Week{2026, 47}, "", time.UTC, c.Now())
	if err != nil || len(r.TopOffenders) == 0 || len(r.TopOffenders[0].Examples) == 0 {
		t.Fatalf("no references stored: %v", err)
	}
	st.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Fatal("no database files to inspect")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(marker)) {
			t.Errorf("%s contains the payload marker", f)
		}
	}
	var out bytes.Buffer
	for _, f := range Formats {
		if err := Render(&out, r, f.Name); err != nil {
			t.Fatal(err)
		}
	}
	if bytes.Contains(out.Bytes(), []byte(marker)) {
		t.Error("a rendered report contains the payload marker")
	}
}
