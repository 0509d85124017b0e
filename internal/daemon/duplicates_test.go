package daemon

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestDuplicateStoreSetting: with audit.duplicate_store on (the default)
// the daemon remembers the audited event ids in table event_ids and shows
// them in eventwatch_store_event_ids; with it off no row is written, and
// a copy read by the same process is still a duplicate.event_id (the
// in-process window). Both read one event id twice and another once.
func TestDuplicateStoreSetting(t *testing.T) {
	for _, tc := range []struct {
		on      bool
		wantIDs int64
	}{{true, 2}, {false, 0}} {
		t.Run(map[bool]string{true: "on", false: "off"}[tc.on], func(t *testing.T) {
			t.Parallel()
			topic := "huleedu.dev.batchorchestration.batch"
			c, cfg := kfakeConfig(t, kfake.SeedTopics(1, topic))
			cl := kfaketest.Client(t, c)
			cfg.Audit.DuplicateStore = tc.on
			in := start(t, cfg, Options{Version: "test"})
			other := strings.Replace(goodHuleedu, "3f1c2a9e", "4e2d3b0f", 1)
			recs := []*kgo.Record{{Topic: topic, Value: []byte(goodHuleedu)}, {Topic: topic, Value: []byte(goodHuleedu)}, {Topic: topic, Value: []byte(other)}}
			if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
			wait.Within(t, 30*time.Second, "3 records checked, the copy a duplicate", func() bool {
				return metric(t, in.url, "eventwatch_records_checked_total", `topic="`+topic+`"`) == 3 &&
					metric(t, in.url, "eventwatch_violations_total", `rule="duplicate.event_id"`) == 1
			})
			adm := kadm.NewClient(cl)
			wait.Within(t, 30*time.Second, "positions stored and committed (the records flushed)", func() bool {
				offs, err := adm.FetchOffsets(context.Background(), cfg.Sample.GroupID)
				o, ok := offs.Lookup(topic, 0)
				return err == nil && ok && o.At == 3
			})
			if got := metric(t, in.url, "eventwatch_store_event_ids"); got != float64(tc.wantIDs) {
				t.Errorf("eventwatch_store_event_ids = %v, want %d", got, tc.wantIDs)
			}
			if err := in.stop(t); err != nil {
				t.Fatal(err)
			}
			st := storetest.OpenSQLite(t, cfg.DataDir)
			if n, err := st.RememberedIDs(context.Background()); err != nil || n != tc.wantIDs {
				t.Fatalf("table event_ids holds %d rows (%v), want %d", n, err, tc.wantIDs)
			}
		})
	}
}

// TestLedgerAuditKeysNeedRestart: a reload that changes whether or how
// long the report store remembers event ids is named (the ledger reads
// them at start); other audit changes, or the window while the store is
// off, are not.
func TestLedgerAuditKeysNeedRestart(t *testing.T) {
	base := config.Default().Audit
	off := base
	off.DuplicateStore = false
	longer := base
	longer.DuplicateWindow = 48 * time.Hour
	offLonger := off
	offLonger.DuplicateWindow = 48 * time.Hour
	other := base
	other.Profile = "authorworks"
	for _, tc := range []struct {
		name string
		a, b config.AuditConfig
		want []string
	}{
		{"store off", base, off, []string{"audit.duplicate_store"}},
		{"window", base, longer, []string{"audit.duplicate_window"}},
		{"both", base, offLonger, []string{"audit.duplicate_store", "audit.duplicate_window"}},
		{"window while off", off, offLonger, nil},
		{"profile", base, other, nil},
	} {
		if got := ledgerAuditKeys(tc.a, tc.b); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
