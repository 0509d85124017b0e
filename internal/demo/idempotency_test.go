package demo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// idemRow is one idempotency verdict of /api/v1/types.
type idemRow struct {
	Group       string `json:"group"`
	Type        string `json:"event_type"`
	Verdict     string `json:"verdict"`
	Redelivered int64  `json:"redelivered"`
}

// checkIdempotency is the demo's ground truth on idempotency (issue 25,
// docs/demo.md): payment-relay emits a payment request per delivery, so a
// producer duplicate of an invoice makes it not idempotent; the huleedu
// relays (essay_lifecycle_service, spell_checker_service) deduplicate by
// event id, so the legacy importer's duplicate pipelines_configured events
// make essay_lifecycle_service idempotent — with evidence, a redelivered
// input — and no consumer but payment-relay is ever reported not
// idempotent.
func checkIdempotency(t *testing.T, base string) {
	t.Helper()
	var rows []idemRow
	verdict := func(group, typ string) (idemRow, bool) {
		for _, r := range rows {
			if r.Group == group && r.Type == typ {
				return r, true
			}
		}
		return idemRow{}, false
	}
	wait.Describe(t, 150*time.Second, func() string {
		return fmt.Sprintf("%s not idempotent and %s idempotent with a redelivered input; have %+v", GroupRelay, "essay_lifecycle_service", rows)
	}, func() bool {
		rows = idempotency(t, base)
		for _, r := range rows {
			if r.Verdict == "not_idempotent" && r.Group != GroupRelay {
				t.Fatalf("%s reported not idempotent for %s; only %s is (%+v)", r.Group, r.Type, GroupRelay, rows)
			}
		}
		relay, _ := verdict(GroupRelay, TypeInvoiceIssued)
		essay, _ := verdict("essay_lifecycle_service", TypePipelinesConfigured)
		return relay.Verdict == "not_idempotent" && essay.Verdict == "idempotent" && essay.Redelivered > 0
	})
}

func idempotency(t *testing.T, base string) []idemRow {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/types") //nolint:gosec,noctx // test URL
	if err != nil {
		t.Fatalf("GET /api/v1/types: %v", err)
	}
	defer resp.Body.Close()
	var doc struct {
		Idempotency []idemRow `json:"idempotency"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil // no event type known yet (404)
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("decode /api/v1/types: %v", err)
	}
	return doc.Idempotency
}

// checkSlowWhy: the slow consumer's "why" agrees with its WARN verdict:
// it falls behind (or waits its turn), and is never said to wait "without
// progress", which is what STOP and STALL mean (issue 21).
func checkSlowWhy(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/groups") //nolint:gosec,noctx // test URL
	if err != nil {
		t.Fatalf("GET /api/v1/groups: %v", err)
	}
	defer resp.Body.Close()
	var doc struct {
		Groups []struct {
			Group  string `json:"group"`
			Status string `json:"status"`
			Why    string `json:"why"`
		} `json:"groups"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("decode /api/v1/groups: %v", err)
	}
	for _, g := range doc.Groups {
		if g.Group != GroupSlow {
			continue
		}
		if g.Status == "WARN" && (strings.Contains(g.Why, "without progress") ||
			!strings.Contains(g.Why, "falling behind") && !strings.Contains(g.Why, "wait their turn")) {
			t.Errorf("%s is WARN but its why says %q", GroupSlow, g.Why)
		}
		return
	}
	t.Errorf("%s not on /api/v1/groups", GroupSlow)
}
