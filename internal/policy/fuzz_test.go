package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParsePolicy: any YAML yields a profile or an error, never a panic;
// an error always names the file, and a profile always has the two
// envelope fields every policy must map.
func FuzzParsePolicy(f *testing.F) {
	for _, n := range BuiltinProfiles() {
		data, _ := BuiltinPolicy(n)
		f.Add(data)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "policies", "*.yaml"))
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if !p.Field(RoleID).Defined() || !p.Field(RoleType).Defined() {
			t.Fatalf("profile %q lacks the id or type field", p.Name)
		}
	})
}
