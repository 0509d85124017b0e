package lag_test

import (
	"bytes"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

func writeFamily(t *testing.T, buf *bytes.Buffer, mf *dto.MetricFamily) {
	t.Helper()
	if _, err := expfmt.MetricFamilyToText(buf, mf); err != nil {
		t.Fatal(err)
	}
}
