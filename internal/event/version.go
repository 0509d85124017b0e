package event

import "strings"

// NormalizeVersion maps the spellings of one version to one form: "v1",
// "1", "1.0" and "1.0.0" all become "1"; "1.1" stays "1.1".
func NormalizeVersion(v string) string {
	v = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(v), "v"), "V")
	for strings.HasSuffix(v, ".0") {
		v = strings.TrimSuffix(v, ".0")
	}
	return v
}
