package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPayloadNeverLoggedOrStored plants a marker in record payloads and
// headers (a data field, broken JSON, a blob field, a DLQ record) and checks
// that neither the debug logs, nor the API answers, nor the report store's
// files contain it. Envelope identifiers (event type, source service) are
// report dimensions by design and are not planted.
func TestPayloadNeverLoggedOrStored(t *testing.T) {
	const marker = "PAYLOAD-MARKER-7f3a9c"
	topic, dlq := "huleedu.dev.privacy.batch", "huleedu.dev.privacy.batch.deadletter"
	c, cfg := kfakeConfig(t, kfake.SeedTopics(2, topic, dlq))
	cl := kfaketest.Client(t, c)
	cfg.Log.Level = "debug"
	logs := &lockedBuffer{}
	in := start(t, cfg, Options{LogOutput: logs})
	in.waitOK(t, "/readyz")

	values := []string{
		strings.Replace(goodHuleedu, `"b-1"`, `"`+marker+`"`, 1),
		`{"event_type":"BatchCreated","data":{"text":"` + strings.Repeat(marker+" ", 200) + `"}}`,
		"\x00\xff" + marker + "{{{",
		`{"original":"` + marker + `"}`,
	}
	var recs []*kgo.Record
	for i, v := range values {
		t := topic
		if i == len(values)-1 {
			t = dlq
		}
		recs = append(recs, &kgo.Record{Topic: t, Value: []byte(v), Headers: []kgo.RecordHeader{{Key: "x-note", Value: []byte(marker)}}})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	wait.Within(t, 30*time.Second, "all records checked", func() bool {
		return metric(t, in.url, "eventwatch_records_checked_total") >= float64(len(values))
	})
	y, w := time.Now().UTC().ISOWeek()
	wait.Within(t, 30*time.Second, "violation examples stored", func() bool {
		_, body := httpget.Get(t, in.url+"/api/v1/violations")
		return strings.Contains(body, `"rule":"envelope.invalid_json"`)
	})
	for _, p := range []string{"/api/v1/flows", fmt.Sprintf("/api/v1/reports/weekly?week=%d-W%02d&format=json", y, w), "/api/v1/groups", "/metrics",
		"/api/v1/violations", fmt.Sprintf("/api/v1/reports/weekly?week=%d-W%02d&format=html", y, w)} {
		// the HTML report may break long names with <wbr>: look through it
		if _, body := httpget.Get(t, in.url+p); strings.Contains(strings.ReplaceAll(body, "<wbr>", ""), marker) {
			t.Errorf("%s contains the payload marker", p)
		}
	}
	if err := in.stop(t); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), marker) {
		t.Error("the logs contain the payload marker")
	}
	files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "*"))
	if len(files) == 0 {
		t.Fatal("no store files written")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if bytes.Contains(b, []byte(marker)) {
			t.Errorf("store file %s contains the payload marker", filepath.Base(f))
		}
	}
}
