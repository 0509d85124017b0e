package lag

import (
	"math"
	"reflect"
)

// Same reports whether a and b hold the same view of a group: every field
// equal, floats compared bit for bit (so an unknown NaN equals itself), at
// every depth (topics, findings, partitions, max lag). It tells a
// publisher which groups a new cycle left unchanged without rendering
// them; it follows new fields by itself.
func Same(a, b *GroupLag) bool {
	return sameValue(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem(), false)
}

// SameFacts reports whether a and b hold the same facts: Same, except
// that the figures derived from anchors and time (the fields tagged
// clock:"derived": time lags, waiting times, times to loss, breach
// seconds, the why sentence) are compared by their anchors, not by their
// values. Two such views render the same page at any one time
// (AppendGroupTemplate, RenderGroupTemplate); the share path publishes a
// group only when its facts change.
func SameFacts(a, b *GroupLag) bool {
	return sameValue(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem(), true)
}

func sameValue(a, b reflect.Value, facts bool) bool {
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.Struct:
		t := a.Type()
		for i := range a.NumField() {
			if facts && t.Field(i).Tag.Get("clock") == "derived" {
				continue
			}
			if !sameValue(a.Field(i), b.Field(i), facts) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i), facts) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameValue(a.Elem(), b.Elem(), facts)
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return a.Uint() == b.Uint()
	}
	return false // maps, interfaces, ...: never assumed equal
}
