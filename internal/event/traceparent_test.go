package event

import "testing"

// FuzzTraceparent: a header accepted by parseTraceparent yields ids of the
// W3C lengths in lower-case hex.
func FuzzTraceparent(f *testing.F) {
	f.Add([]byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
	f.Add([]byte("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
	f.Fuzz(func(t *testing.T, v []byte) {
		tid, sid, ok := parseTraceparent(v)
		if ok && (len(tid) != 32 || len(sid) != 16 || !lowerHex([]byte(tid)) || !lowerHex([]byte(sid))) {
			t.Fatalf("accepted %q with ids %q %q", v, tid, sid)
		}
	})
}
