package team

import (
	"strings"
	"testing"
)

func demoMap() *Map {
	return New([]Team{
		{Name: "content", Services: []string{"content-service", "search-indexer"}, Groups: []string{"notification_*"}},
		{Name: "essays", Services: []string{"essay_lifecycle_service", "spell_checker_service"}, Topics: []string{"huleedu.dev.essay*"}},
	}, []Producer{
		{Service: "content-service", Topic: "content.book", Consumers: []string{"notification_service", "search-indexer"}},
		{Service: "user-service", Topic: "user.account"},
		{Service: "batch_orchestrator_service", Topic: "huleedu.dev.batchorchestration.batch", Consumers: []string{"essay_lifecycle_service"}},
	})
}

func TestTeamOfAndPairs(t *testing.T) {
	m := demoMap()
	for svc, want := range map[string]string{"content-service": "content", "user-service": "user-service",
		"spell_checker_service": "essays", "never-seen": "never-seen", "notification_service": "notification_service"} {
		if got := m.TeamOf(svc); got != want {
			t.Errorf("TeamOf(%s) = %s, want %s", svc, got, want)
		}
	}
	var got []string
	for _, p := range m.Pairs() {
		got = append(got, p[0]+"="+p[1])
	}
	want := "batch_orchestrator_service=batch_orchestrator_service content-service=content essay_lifecycle_service=essays " +
		"notification_service=notification_service search-indexer=content spell_checker_service=essays user-service=user-service"
	if strings.Join(got, " ") != want {
		t.Errorf("pairs\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if s := m.Services("content"); strings.Join(s, ",") != "content-service,search-indexer" {
		t.Errorf("Services(content) = %v", s)
	}
	if s := m.Services("user-service"); strings.Join(s, ",") != "user-service" {
		t.Errorf("Services(user-service) = %v", s)
	}
}

// TestScopeOwnsOnlyItsOwn: topics, groups and dead-letter topics go to
// the team whose services produce or consume them.
func TestScopeOwnsOnlyItsOwn(t *testing.T) {
	m := demoMap()
	produced := map[string][]string{"user.account": {"user-service"}, "content.book": {"content-service"},
		"huleedu.dev.essaylifecycle.essay": {"essay_lifecycle_service"}}
	content := m.ForTeam("content", produced)
	user := m.ForService("user-service", produced)
	essays := m.ForTeam("essays", produced)
	cases := []struct {
		what string
		got  bool
		want bool
	}{
		{"content owns content.book", content.OwnsTopic("content.book"), true},
		{"content does not own user.account", content.OwnsTopic("user.account"), false},
		{"content owns content.deadletter", content.OwnsDLQ("content.deadletter"), true},
		{"user does not own content.deadletter", user.OwnsDLQ("content.deadletter"), false},
		{"user owns user.deadletter", user.OwnsDLQ("user.deadletter"), true},
		{"user does not own an unrelated topic as DLQ", user.OwnsDLQ("user"), false},
		{"content owns search-indexer", content.OwnsGroup("search-indexer"), true},
		{"content owns notification_service by glob", content.OwnsGroup("notification_service"), true},
		{"user does not own search-indexer", user.OwnsGroup("search-indexer"), false},
		{"essays own their DLQ by glob", essays.OwnsDLQ("huleedu.dev.essaylifecycle.essay.dlq"), true},
		{"essays own essay_lifecycle_service group", essays.OwnsGroup("essay_lifecycle_service"), true},
		{"content does not own the essays group", content.OwnsGroup("essay_lifecycle_service"), false},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %v", c.what, c.got)
		}
	}
}

func TestValidate(t *testing.T) {
	err := Validate([]Team{{Name: "a", Services: []string{"s"}}, {Name: "a", Services: []string{"s"}, Topics: []string{"["}}, {}})
	for _, want := range []string{"teams[1].name: team a is defined twice", "teams[1].services[0]: service s already belongs to team a",
		`teams[1].topics[0]: invalid glob "["`, "teams[2].name: required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want %q", err, want)
		}
	}
	if err := Validate(nil); err != nil {
		t.Errorf("no teams: %v", err)
	}
}

// TestKnownNames: every team (configured, and each unclaimed service as
// its own) and every service the map names.
func TestKnownNames(t *testing.T) {
	m := demoMap()
	if got := strings.Join(m.Teams([]string{"legacy_importer", "content-service"}), ","); got !=
		"batch_orchestrator_service,content,essays,legacy_importer,notification_service,user-service" {
		t.Errorf("Teams = %s", got)
	}
	if got := strings.Join(m.KnownServices(), ","); got !=
		"batch_orchestrator_service,content-service,essay_lifecycle_service,notification_service,search-indexer,spell_checker_service,user-service" {
		t.Errorf("KnownServices = %s", got)
	}
	var none *Map
	if got := strings.Join(none.Teams([]string{"a"}), ","); got != "a" || none.KnownServices() != nil {
		t.Errorf("nil map: Teams = %s", got)
	}
}
