package lag

import (
	"math"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// TestSameFactsKnowsEveryField: SameFacts (written out field by field)
// agrees with the reflective definition (every field, the derived ones by
// their anchors) for a change of any one field at any depth, exported or
// not: a field added later that SameFacts does not compare fails here,
// instead of a group whose change the share path never publishes.
func TestSameFactsKnowsEveryField(t *testing.T) {
	var base GroupLag
	fillNonZero(t, reflect.ValueOf(&base).Elem(), 1)
	fillUnexported(reflect.ValueOf(&base).Elem(), 1)
	if !SameFacts(&base, &base) || !sameValue(reflect.ValueOf(&base).Elem(), reflect.ValueOf(&base).Elem(), true) {
		t.Fatal("a group is not the same as itself")
	}
	n := 0
	for _, path := range leaves(reflect.TypeFor[GroupLag](), nil) {
		changed := deepClone(base)
		leaf := fieldAt(reflect.ValueOf(&changed).Elem(), path)
		bump(leaf)
		want := sameValue(reflect.ValueOf(&base).Elem(), reflect.ValueOf(&changed).Elem(), true)
		if got := SameFacts(&base, &changed); got != want {
			t.Errorf("field %v changed: SameFacts %t, want %t", path, got, want)
		}
		n++
	}
	if n < 60 {
		t.Fatalf("only %d fields walked", n)
	}
	nan := base
	nan.lagClk.fixed, nan.CompleteFraction = math.NaN(), math.NaN()
	other := deepClone(nan)
	if !SameFacts(&nan, &other) {
		t.Error("unknown (NaN) figures differ from themselves")
	}
}

// leaves lists the index paths of every leaf field of t (slices and
// pointers followed to their first element).
func leaves(t reflect.Type, prefix []int) [][]int {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice:
		return leaves(t.Elem(), append(append([]int(nil), prefix...), -1))
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			return [][]int{prefix}
		}
		var out [][]int
		for i := range t.NumField() {
			out = append(out, leaves(t.Field(i).Type, append(append([]int(nil), prefix...), i))...)
		}
		return out
	}
	return [][]int{prefix}
}

// fieldAt is the settable value at path in v (-1: the pointer's target, or a
// slice's first element).
func fieldAt(v reflect.Value, path []int) reflect.Value {
	for _, i := range path {
		switch {
		case i == -1 && v.Kind() == reflect.Pointer:
			v = v.Elem()
		case i == -1:
			v = v.Index(0)
		default:
			v = v.Field(i)
		}
		v = settable(v)
	}
	return v
}

func settable(v reflect.Value) reflect.Value {
	if v.CanSet() || !v.CanAddr() {
		return v
	}
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

func bump(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(v.Float() + 1)
	case reflect.Struct: // time.Time
		v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Second)))
	}
}

// fillUnexported sets the unexported fields fillNonZero leaves alone.
func fillUnexported(v reflect.Value, n int) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			fillUnexported(v.Elem(), n+1)
		}
	case reflect.Slice:
		for i := range v.Len() {
			fillUnexported(v.Index(i), n+i+1)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			f := settable(v.Field(i))
			if v.Type().Field(i).IsExported() {
				fillUnexported(f, n+i)
				continue
			}
			fillAll(f, n+i)
		}
	}
}

func fillAll(v reflect.Value, n int) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fillAll(settable(v.Field(i)), n+i)
		}
	case reflect.String:
		v.SetString("u")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(n%3 + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(n%3 + 1))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(n) + 0.25)
	}
}

// deepClone copies g with nothing shared (slices, pointers).
func deepClone[T any](g T) T {
	var out T
	cloneInto(reflect.ValueOf(&out).Elem(), reflect.ValueOf(&g).Elem())
	return out
}

func cloneInto(dst, src reflect.Value) {
	dst = settable(dst)
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.New(src.Type().Elem()))
		cloneInto(dst.Elem(), src.Elem())
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
		for i := range src.Len() {
			cloneInto(dst.Index(i), src.Index(i))
		}
	case reflect.Struct:
		if src.Type() == reflect.TypeFor[time.Time]() {
			dst.Set(settable(src))
			return
		}
		for i := range src.NumField() {
			cloneInto(dst.Field(i), src.Field(i))
		}
	default:
		dst.Set(settable(src))
	}
}
