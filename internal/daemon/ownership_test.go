package daemon

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/eventwatch/eventwatch/internal/team"
)

// TestServiceTeamInfo: eventwatch_service_team_info has one series per
// service of the teams section and of the catalog (an unclaimed catalog
// producer or consumer is its own team).
func TestServiceTeamInfo(t *testing.T) {
	_, cfg := kfakeConfig(t)
	dir := filepath.Join(cfg.DataDir, "catalog")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	entry := "type: huleedu.essaylifecycle.essay.spellcheck_requested.v1\nversion: \"1\"\nproducer: essay_lifecycle_service\n" +
		"consumers: [spell_checker_service, archive_service]\nschema: {type: object}\n"
	if err := os.WriteFile(filepath.Join(dir, "e.yaml"), []byte(entry), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Audit.Catalog = dir
	cfg.Teams = []team.Team{{Name: "essays", Services: []string{"essay_lifecycle_service", "spell_checker_service"}}}
	in := start(t, cfg, Options{})
	in.waitOK(t, "/healthz")
	for _, tc := range []struct{ service, team string }{
		{"essay_lifecycle_service", "essays"}, {"spell_checker_service", "essays"}, {"archive_service", "archive_service"},
	} {
		if v := metric(t, in.url, "eventwatch_service_team_info", `service="`+tc.service+`"`, `team="`+tc.team+`"`); v != 1 {
			t.Errorf("eventwatch_service_team_info{service=%q,team=%q} = %v, want 1", tc.service, tc.team, v)
		}
	}
	if n := metric(t, in.url, "eventwatch_service_team_info"); n != 3 {
		t.Errorf("%v series, want 3", n)
	}
}
