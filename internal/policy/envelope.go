package policy

import (
	"fmt"
	"strings"
)

// Role is an envelope role: a field of an event envelope the engine reads,
// whatever its path in a given standard.
type Role int

// Envelope roles, in the order policies list them.
const (
	RoleID Role = iota
	RoleType
	RoleVersion
	RoleTimestamp
	RoleCorrelation
	RoleSource
	RoleTraceID
	RoleSpanID
	RoleData
	NumRoles
)

var roleNames = [NumRoles]string{"id", "type", "version", "timestamp", "correlation_id", "source", "trace_id", "span_id", "data"}

// String is the role's key under envelope.fields, e.g. "correlation_id".
func (r Role) String() string {
	if r < 0 || r >= NumRoles {
		return fmt.Sprintf("role(%d)", int(r))
	}
	return roleNames[r]
}

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

// Field is one envelope field of a profile (envelope.fields.<role>).
type Field struct {
	Path     string // dotted JSON path, e.g. meta.id; "" when the profile does not define the role
	Required bool   // absent, null or "" is envelope.missing_field
	Nullable bool   // null is accepted (and treated as absent)
	Type     string // string, number, integer, boolean, object, array or any
	Format   string // uuid, uuid_v4, rfc3339_utc or ""
}

// Defined reports whether the profile defines the field.
func (f Field) Defined() bool { return f.Path != "" }

// Field returns the profile's field for role r (zero when undefined).
func (p *Profile) Field(r Role) Field {
	if r < 0 || r >= NumRoles {
		return Field{}
	}
	return p.fields[r]
}

// FieldPath returns the dotted path of an envelope field (FieldID, ...,
// FieldData) in the profile's events, e.g. "meta.id" or "event_id"; "" when
// the profile does not define it.
func (p *Profile) FieldPath(field string) string {
	for r, name := range roleNames {
		if name == field {
			return p.fields[r].Path
		}
	}
	return ""
}

// EnvelopeStrict reports whether unknown envelope fields are
// envelope.unknown_field (envelope.strict).
func (p *Profile) EnvelopeStrict() bool { return p.strict }

// EnvelopeAllow returns the extra field paths allowed when strict
// (envelope.allow).
func (p *Profile) EnvelopeAllow() []string { return append([]string(nil), p.allow...) }

var validTypes = map[string]bool{"string": true, "number": true, "integer": true, "boolean": true, "object": true, "array": true, "any": true}

// FieldTypes returns the JSON types an envelope field may declare
// (envelope.fields.<role>.type), sorted.
func FieldTypes() []string { return sortedKeys(validTypes) }

var validFormats = map[string]bool{"": true, "uuid": true, "uuid_v4": true, "rfc3339_utc": true}

func defaultType(role Role) string {
	if role == RoleData {
		return "object"
	}
	return "string"
}

func compileEnvelope(doc *policyDoc, p *Profile) error {
	p.strict = doc.Envelope.Strict
	used := map[string]Role{}
	for _, name := range sortedKeys(doc.Envelope.Fields) {
		if err := compileField(p, used, name, doc.Envelope.Fields[name]); err != nil {
			return err
		}
	}
	for _, r := range []Role{RoleID, RoleType} {
		if !p.fields[r].Defined() {
			return ferr("envelope.fields."+roleNames[r], "is required")
		}
	}
	for i, a := range doc.Envelope.Allow {
		if err := checkPath(a); err != nil {
			return ferr(fmt.Sprintf("envelope.allow[%d]", i), "%v", err)
		}
	}
	p.allow = doc.Envelope.Allow
	return nil
}

func compileField(p *Profile, used map[string]Role, name string, f fieldDoc) error {
	base := "envelope.fields." + name
	role := Role(-1)
	for i, n := range roleNames {
		if n == name {
			role = Role(i)
		}
	}
	if role < 0 {
		return ferr(base, "unknown envelope role (want one of %s)", strings.Join(roleNames[:], ", "))
	}
	if f.Type == "" {
		f.Type = defaultType(role)
	}
	if !validTypes[f.Type] {
		return ferr(base+".type", "must be string, number, integer, boolean, object, array or any (got %q)", f.Type)
	}
	if !validFormats[f.Format] {
		return ferr(base+".format", "must be uuid, uuid_v4 or rfc3339_utc (got %q)", f.Format)
	}
	if err := checkPath(f.Path); err != nil {
		return ferr(base+".path", "%v", err)
	}
	if other, ok := used[f.Path]; ok && other != role {
		return ferr(base+".path", "path %q already used by %s", f.Path, other)
	}
	used[f.Path] = role
	p.fields[role] = Field(f)
	return nil
}

// checkPath rejects an empty dotted path or one with an empty segment.
func checkPath(dotted string) error {
	if dotted == "" {
		return fmt.Errorf("is required")
	}
	for _, part := range strings.Split(dotted, ".") {
		if part == "" {
			return fmt.Errorf("empty segment in %q", dotted)
		}
	}
	return nil
}
