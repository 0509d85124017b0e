package lag

import (
	"math"
	"reflect"
	"testing"
	"time"
)

// fillLeaves sets every leaf of v to a non-zero value derived from n (slices get
// two elements, pointers a value), so that no field is left at its zero.
func fillLeaves(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n % 100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n % 100))
	case reflect.String:
		v.SetString("s" + string(rune('a'+*n%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Unix(int64(*n), 0)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillLeaves(v.Field(i), n)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fillLeaves(v.Index(0), n)
		fillLeaves(v.Index(1), n)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillLeaves(v.Elem(), n)
	}
}

// walkLeaves calls f with every settable leaf of v (through slices and pointers).
func walkLeaves(v reflect.Value, path string, f func(string, reflect.Value)) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkLeaves(v.Field(i), path+"."+v.Type().Field(i).Name, f)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkLeaves(v.Index(i), path+"[]", f)
		}
	case reflect.Pointer:
		walkLeaves(v.Elem(), path+"*", f)
	default:
		f(path, v)
	}
}

// filled is a group with every field set (a fresh fill with the
// same counter gives the same values).
func filled() GroupLag {
	var g GroupLag
	n := 0
	fillLeaves(reflect.ValueOf(&g).Elem(), &n)
	return g
}

// TestSameSeesEveryField: two identically filled groups (every field,
// partitions included, non-zero) are Same; changing any single leaf —
// whatever field a later change adds — makes them differ; unknown values
// (NaN) equal themselves; a nil and an empty slice differ (they render
// differently).
func TestSameSeesEveryField(t *testing.T) {
	a, b := filled(), filled()
	if !Same(&a, &b) {
		t.Fatal("identical groups are not Same")
	}
	count := 0
	walkLeaves(reflect.ValueOf(&b).Elem(), "GroupLag", func(path string, v reflect.Value) {
		count++
		c := filled()
		var target reflect.Value
		i := 0
		walkLeaves(reflect.ValueOf(&c).Elem(), "GroupLag", func(_ string, w reflect.Value) {
			if i == count-1 {
				target = w
			}
			i++
		})
		switch target.Kind() {
		case reflect.Float32, reflect.Float64:
			target.SetFloat(target.Float() + 1)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			target.SetInt(target.Int() + 1)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			target.SetUint(target.Uint() + 1)
		case reflect.String:
			target.SetString(target.String() + "x")
		case reflect.Bool:
			target.SetBool(!target.Bool())
		default:
			t.Errorf("%s: leaf of kind %s not handled by Same's test", path, target.Kind())
			return
		}
		if Same(&a, &c) {
			t.Errorf("changing %s went unnoticed", path)
		}
	})
	if count < 60 {
		t.Errorf("only %d leaves walked: the fill misses fields", count)
	}
	a.LagSeconds, b.LagSeconds = Seconds(math.NaN()), Seconds(math.NaN())
	if !Same(&a, &b) {
		t.Error("NaN lag seconds differ from themselves")
	}
	b.Topics[0].Findings = []StatusFinding{}
	a.Topics[0].Findings = nil
	if Same(&a, &b) {
		t.Error("a nil and an empty findings list are Same")
	}
}

// Same reports whether a and b hold the same view of a group: every field
// equal, floats compared bit for bit (so an unknown NaN equals itself), at
// every depth, found by reflection, so it follows new fields by itself:
// the tests' reference for SameFacts (sameValue with facts true), which
// the share path calls for every group every cycle and is written out
// field by field.
func Same(a, b *GroupLag) bool {
	return sameValue(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem(), false)
}

// sameValue compares a and b field by field; facts: the fields tagged
// clock:"derived" are left out (SameFacts compares their anchors).
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
