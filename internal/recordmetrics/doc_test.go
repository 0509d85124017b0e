package recordmetrics

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
)

// TestDocListsMetrics ties the # Metrics list of doc.go to what
// NewCounters registers and to the catalogue's labels and kinds.
func TestDocListsMetrics(t *testing.T) {
	rec := metricstest.NewRecorder()
	NewCounters(rec, 10)
	metricstest.CheckDocMetrics(t, "doc.go", rec.Names())
}
