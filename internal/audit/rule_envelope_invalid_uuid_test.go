package audit

import "testing"

func TestRuleInvalidUUID(t *testing.T) {
	runRuleCases(t, "envelope.invalid_uuid", []ruleCase{
		{name: "uuid v4", profile: "huleedu", rec: hule(nil)},
		{name: "uuid v1 is fine for huleedu", profile: "huleedu", rec: hule(map[string]string{"event_id": `"6ba7b810-9dad-11d1-80b4-00c04fd430c8"`})},
		{name: "not a uuid", profile: "huleedu", rec: hule(map[string]string{"event_id": `"evt-123"`}),
			fires: true, field: "event_id", msg: `field event_id is "evt-123", not a UUID`},
		{name: "bad correlation uuid", profile: "huleedu", rec: hule(map[string]string{"correlation_id": `"req-1"`}),
			fires: true, field: "correlation_id", msg: "not a UUID"},
		{name: "braced uuid", profile: "huleedu", rec: hule(map[string]string{"event_id": `"{3f2b7c1e-9a4d-4e8b-b1c2-5d6e7f8a9b0c}"`}),
			fires: true, field: "event_id", msg: "not a UUID"},
		{name: "authorworks v1 uuid", profile: "authorworks", rec: aw(map[string]string{"meta.id": `"6ba7b810-9dad-11d1-80b4-00c04fd430c8"`}),
			fires: true, field: "meta.id", msg: "not a version 4 UUID"},
		{name: "authorworks free-form correlation", profile: "authorworks", rec: aw(map[string]string{"meta.correlation_id": `"original-request-id"`})},
	})
}

func TestIsUUID(t *testing.T) {
	cases := []struct {
		in     string
		uuid   bool
		uuidV4 bool
	}{
		{"3f2b7c1e-9a4d-4e8b-b1c2-5d6e7f8a9b0c", true, true},
		{"3F2B7C1E-9A4D-4E8B-B1C2-5D6E7F8A9B0C", true, true},
		{"6ba7b810-9dad-11d1-80b4-00c04fd430c8", true, false},
		{"3f2b7c1e-9a4d-4e8b-c1c2-5d6e7f8a9b0c", true, false},
		{"3f2b7c1e9a4d-4e8b-b1c2-5d6e7f8a9b0c-", false, false},
		{"3f2b7c1e-9a4d-4e8b-b1c2-5d6e7f8a9b0g", false, false},
		{"3f2b7c1e-9a4d-4e8b-b1c2-5d6e7f8a9b0", false, false},
		{"3f2b7c1e_9a4d_4e8b_b1c2_5d6e7f8a9b0c", false, false},
		{"", false, false},
	}
	for _, tc := range cases {
		if got := isUUID(tc.in); got != tc.uuid {
			t.Errorf("isUUID(%q) = %v", tc.in, got)
		}
		if got := isUUIDv4([]byte(tc.in)); got != tc.uuidV4 {
			t.Errorf("isUUIDv4(%q) = %v", tc.in, got)
		}
	}
}

// TestAllHex checks the SWAR hex test against hexDigit for every byte value
// in every position of the word.
func TestAllHex(t *testing.T) {
	base := []byte("0a9Ff1B7")
	for pos := range 8 {
		for c := range 256 {
			w := append([]byte(nil), base...)
			w[pos] = byte(c)
			if got, want := allHex(load8(w, 0)), hexDigit[c]; got != want {
				t.Fatalf("allHex(%q) = %v, want %v", w, got, want)
			}
		}
	}
}
