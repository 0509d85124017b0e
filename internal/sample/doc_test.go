package sample

import (
	"log/slog"
	"testing"

	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
)

// TestDocListsMetrics ties the # Metrics list of doc.go to what New
// registers and to the catalogue's labels and kinds.
func TestDocListsMetrics(t *testing.T) {
	rec := metricstest.NewRecorder()
	if _, err := New(testConfig(), nil, &fakeAuditor{}, nil, rec, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	metricstest.CheckDocMetrics(t, "doc.go", rec.Names())
}
