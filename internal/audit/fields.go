package audit

import "github.com/eventwatch/eventwatch/internal/event"

// SameVersion reports whether two event versions are the same version
// ("v1", "1" and "1.0" are).
func SameVersion(a, b string) bool { return event.NormalizeVersion(a) == event.NormalizeVersion(b) }
