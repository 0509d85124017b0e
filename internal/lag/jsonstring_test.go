package lag

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzAppendJSONString: appendJSONString writes what json.Marshal writes
// for the same string, from a string and from bytes.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "orders", `{"group":"a<b>&c","why":"x\ny"}`, "caf\u00e9", "z\xff-bad", "\u2028\u2029", "\x00\x1f\b\f\t\r\\",
		"\xed\xa0\x80", "tail\xe2\x82"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString([]byte("x"), s); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Errorf("string %q: %s, want %s", s, got[1:], want)
		}
		if got := appendJSONString(nil, []byte(s)); !bytes.Equal(got, want) {
			t.Errorf("bytes %q: %s, want %s", s, got, want)
		}
	})
}
