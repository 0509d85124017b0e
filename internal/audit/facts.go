package audit

// Facts about the event a rule may ask for without touching the hot-path
// scanner (walk.go). They are computed on demand from the spans the scan
// already recorded, so a rule that does not ask costs nothing, and they
// read only bytes the scanner has validated.

// DataFacts are cheap facts about the envelope's data object.
type DataFacts struct {
	Present bool // the envelope has a data field
	Object  bool // and it is a JSON object
	Fields  int  // number of top-level keys of the object (0 when not an object)
}

// dataFacts returns the facts about this record's data object. The count is
// one linear pass over the data bytes (strings skipped, nesting tracked);
// call it from a rule's check, once.
func (c *evalCtx) dataFacts() DataFacts {
	sp := c.s.fields[roleData]
	if sp.kind == kindAbsent {
		return DataFacts{}
	}
	f := DataFacts{Present: true, Object: sp.kind == kindObject}
	if f.Object {
		f.Fields = topLevelFields(c.inner[sp.start:sp.end])
	}
	return f
}

// topLevelFields counts the keys of a valid JSON object: the commas at
// nesting depth 1, plus one when the object is not empty.
func topLevelFields(obj []byte) int {
	depth, commas, inString, keys := 0, 0, false, false
	for i := 0; i < len(obj); i++ {
		b := obj[i]
		switch {
		case inString && b == '\\':
			i++ // the escaped byte cannot end the string
		case inString:
			inString = b != '"'
		case b == '"':
			inString = true
			keys = keys || depth == 1
		case b == '{' || b == '[':
			depth++
		case b == '}' || b == ']':
			depth--
		case b == ',' && depth == 1:
			commas++
		}
	}
	if !keys {
		return 0
	}
	return commas + 1
}
