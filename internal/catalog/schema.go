package catalog

import "strings"

// Schema returns the JSON Schema (draft 7, the AsyncAPI schema's base) the
// shape implies: the JSON types seen, a format when every string fits one
// (uuid, date-time), each object's members with required = present in
// every object seen, and the arrays' items. A truncated object stays open
// to more members. It never contains a value.
func (s *Shape) Schema() map[string]any {
	out := map[string]any{}
	if s == nil || s.Count == 0 {
		return out
	}
	types := s.types()
	if len(types) == 1 {
		out["type"] = types[0]
	} else if len(types) > 1 {
		out["type"] = types
	}
	if f := s.format(); f != "" {
		out["format"] = f
	}
	if s.Object > 0 && len(s.Props) > 0 {
		props := make(map[string]any, len(s.Props))
		var req []string
		for _, k := range sortedKeys(s.Props) {
			props[k] = s.Props[k].Schema()
			if s.Required(k) {
				req = append(req, k)
			}
		}
		out["properties"] = props
		if len(req) > 0 {
			out["required"] = req
		}
	}
	if s.Items != nil && s.Items.Count > 0 {
		out["items"] = s.Items.Schema()
	}
	return out
}

// types lists the JSON Schema types of the values seen, in a fixed order;
// integers seen next to fractions make "number".
func (s *Shape) types() []string {
	var t []string
	add := func(n int64, name string) {
		if n > 0 {
			t = append(t, name)
		}
	}
	add(s.Object, "object")
	add(s.Array, "array")
	add(s.String, "string")
	switch {
	case s.Number > 0:
		t = append(t, "number")
	case s.Integer > 0:
		t = append(t, "integer")
	}
	add(s.Bool, "boolean")
	add(s.Null, "null")
	return t
}

// format is the string format every string seen fits, or "".
func (s *Shape) format() string {
	switch {
	case s.String == 0:
		return ""
	case s.NotUUID == 0:
		return "uuid"
	case s.NotDateTime == 0:
		return "date-time"
	}
	return ""
}

// Example is a redacted example of the shape: every member seen, each with
// a placeholder of its type ("string", 0, false, a zero UUID or the epoch
// for formats), so it validates against Schema and shows no payload value.
func (s *Shape) Example() any {
	if s == nil || s.Count == 0 {
		return nil
	}
	switch {
	case s.Object > 0:
		m := make(map[string]any, len(s.Props))
		for k, c := range s.Props {
			if s.Required(k) || !c.onlyNull() {
				m[k] = c.Example()
			}
		}
		return m
	case s.Array > 0:
		if s.Items == nil || s.Items.Count == 0 {
			return []any{}
		}
		return []any{s.Items.Example()}
	case s.String > 0:
		return s.stringExample()
	case s.Number > 0 || s.Integer > 0:
		return 0
	case s.Bool > 0:
		return false
	}
	return nil
}

func (s *Shape) onlyNull() bool { return s.Null == s.Count }

func (s *Shape) stringExample() string {
	switch s.format() {
	case "uuid":
		return "00000000-0000-4000-8000-000000000000"
	case "date-time":
		return "1970-01-01T00:00:00Z"
	}
	return "string"
}

// splitPath splits a dotted path into its members.
func splitPath(p string) []string { return strings.Split(p, ".") }
