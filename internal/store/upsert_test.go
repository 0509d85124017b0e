package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// TestWriteManyRows: a flush larger than one multi-row statement (250
// cluster rows, 230 record and 210 violation rows) is stored row for row
// on both drivers, and a second flush of the same keys adds to every row.
func TestWriteManyRows(t *testing.T) {
	ctx := context.Background()
	const nc, nr, nv = 250, 230, 210
	b := &store.Batch{}
	for i := range nc {
		b.Cluster = append(b.Cluster, store.ClusterAgg{Hour: h0, Kind: store.KindLagBreach, Name: fmt.Sprintf("g%03d", i), Value: float64(i), Total: 15})
	}
	for i := range nr {
		b.Records = append(b.Records, store.RecordAgg{Hour: h0, Service: "s", Topic: fmt.Sprintf("t%03d", i), EventType: "x", Checked: int64(i + 1), Compliant: int64(i)})
	}
	for i := range nv {
		b.Violations = append(b.Violations, store.ViolationAgg{Hour: h0, Service: "s", Topic: fmt.Sprintf("t%03d", i), EventType: "x", Rule: "r", Severity: "error", Violations: int64(i + 1)})
	}
	w := store.Window{From: h0, To: h0.Add(time.Hour)}
	for name, mk := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			for range 2 {
				if err := s.Write(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			cl, err := s.Cluster(ctx, w)
			if err != nil || len(cl) != nc {
				t.Fatalf("cluster rows: %d, %v; want %d", len(cl), err, nc)
			}
			for _, c := range cl {
				var i int
				if _, err := fmt.Sscanf(c.Name, "g%03d", &i); err != nil {
					t.Fatal(err)
				}
				if c.Value != float64(2*i) || c.Total != 30 {
					t.Errorf("%s: value %v total %v, want %d and 30", c.Name, c.Value, c.Total, 2*i)
				}
			}
			recs, err := s.Records(ctx, w)
			if err != nil || len(recs) != nr {
				t.Fatalf("record rows: %d, %v; want %d", len(recs), err, nr)
			}
			for _, r := range recs {
				var i int
				if _, err := fmt.Sscanf(r.Topic, "t%03d", &i); err != nil {
					t.Fatal(err)
				}
				if r.Checked != int64(2*(i+1)) || r.Compliant != int64(2*i) {
					t.Errorf("%s: %d/%d, want %d/%d", r.Topic, r.Checked, r.Compliant, 2*(i+1), 2*i)
				}
			}
			vs, err := s.Violations(ctx, w)
			var sum int64
			for _, v := range vs {
				sum += v.Violations
			}
			if err != nil || len(vs) != nv || sum != int64(nv*(nv+1)) {
				t.Fatalf("violation rows: %d summing %d, %v; want %d summing %d", len(vs), sum, err, nv, nv*(nv+1))
			}
		})
	}
}
