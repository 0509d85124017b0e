package share

import (
	"log/slog"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
)

// TestDocListsMetrics ties the # Metrics list of doc.go to what New
// registers and to the catalogue's labels and kinds.
func TestDocListsMetrics(t *testing.T) {
	rec := metricstest.NewRecorder()
	b, err := New(Config{}, []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}, rec, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	b.cl.Close()
	metricstest.CheckDocMetrics(t, "doc.go", rec.Names())
}
