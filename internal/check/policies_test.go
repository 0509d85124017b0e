package check

import (
	"github.com/eventwatch/eventwatch/internal/catalog"

	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/policy"
)

// TestExamplePoliciesMatchBuiltins audits the testdata corpus with each
// built-in profile and with its policy file under examples/policies: the
// reports must be identical, so the policy language expresses both.
func TestExamplePoliciesMatchBuiltins(t *testing.T) {
	for _, name := range policy.BuiltinProfiles() {
		t.Run(name, func(t *testing.T) {
			pol, err := policy.LoadPolicy(filepath.Join("..", "..", "examples", "policies", name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			cat, err := catalog.LoadDir(filepath.Join("..", "..", "examples", "catalog", name))
			if err != nil {
				t.Fatal(err)
			}
			builtin := runCorpus(t, newTestEngine(t, name, true), name)
			e, err := audit.NewEngine(audit.Options{Profile: pol, Catalog: cat, Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatal(err)
			}
			if got := runCorpus(t, e, name); !bytes.Equal(got, builtin) {
				t.Fatalf("policy file and built-in disagree\npolicy:\n%s\nbuilt-in:\n%s", got, builtin)
			}
		})
	}
}

func runCorpus(t *testing.T, e *audit.Engine, profile string) []byte {
	t.Helper()
	in, err := os.Open(filepath.Join("..", "audit", "testdata", "corpus", profile+".ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	if _, err := Run(context.Background(), e, in, &out, "json"); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
