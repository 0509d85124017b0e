package audit

import "github.com/eventwatch/eventwatch/internal/event"

// Envelope field names FieldPath accepts, one per role the engine reads.
const (
	FieldID            = "id"             // event id
	FieldType          = "type"           // event type
	FieldVersion       = "version"        // event version
	FieldTimestamp     = "timestamp"      // event time
	FieldCorrelationID = "correlation_id" // correlation id
	FieldSource        = "source"         // producing service
	FieldTraceID       = "trace_id"       // envelope trace id
	FieldSpanID        = "span_id"        // envelope span id
	FieldData          = "data"           // the event's data (payload)
)

// FieldPath returns the dotted path of an envelope field (FieldID, ...,
// FieldData) in the profile's events, e.g. "meta.id" or "event_id"; "" when
// the profile does not define it.
func (p *Profile) FieldPath(field string) string {
	for r, name := range roleNames {
		if name == field && p.fields[r].defined {
			return p.fields[r].path
		}
	}
	return ""
}

// SameVersion reports whether two event versions are the same version
// ("v1", "1" and "1.0" are).
func SameVersion(a, b string) bool { return event.NormalizeVersion(a) == event.NormalizeVersion(b) }
