package lag_test

import (
	"log/slog"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
)

// TestDocListsMetrics ties the # Metrics list of doc.go to what New
// registers and to the catalogue's labels and kinds.
func TestDocListsMetrics(t *testing.T) {
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1")) // never dialled: New does not touch the network
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rec := metricstest.NewRecorder()
	if _, err := lag.New(testConfig(), cl, lag.Expectations{}, rec, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	metricstest.CheckDocMetrics(t, "doc.go", rec.Names())
}
