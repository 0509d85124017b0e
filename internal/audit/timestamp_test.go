package audit

import (
	"testing"
	"time"
)

func TestParseUTC(t *testing.T) {
	cases := []struct {
		in      string
		problem string
		want    time.Time
	}{
		{"2026-03-01T11:59:00Z", "", time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC)},
		{"2026-03-01T11:59:00.123456+00:00", "", time.Date(2026, 3, 1, 11, 59, 0, 123456000, time.UTC)},
		{"2026-03-01t11:59:00.5z", "", time.Date(2026, 3, 1, 11, 59, 0, 500000000, time.UTC)},
		{"2026-03-01T11:59:00.123456789Z", "", time.Date(2026, 3, 1, 11, 59, 0, 123456789, time.UTC)},
		{"2026-03-01T13:59:00+02:00", "is not in UTC", time.Time{}},
		{"2026-03-01T11:59:00-00:00", "is not in UTC", time.Time{}},
		{"2026-03-01T11:59:00", "has no UTC offset (naive local time)", time.Time{}},
		{"2026-02-30T11:59:00Z", "is not an RFC 3339 timestamp", time.Time{}},
		{"2026-03-01T24:00:00Z", "is not an RFC 3339 timestamp", time.Time{}},
		{"2026-03-01T11:59:00.Z", "is not an RFC 3339 timestamp", time.Time{}},
		{"2026-03-01T11:59:00.1234567891Z", "is not an RFC 3339 timestamp", time.Time{}},
		{"2026-03-01T11:59:00+0000", "is not an RFC 3339 timestamp", time.Time{}},
		{"1772366340", "is not an RFC 3339 timestamp", time.Time{}},
		{"", "is not an RFC 3339 timestamp", time.Time{}},
	}
	for _, tc := range cases {
		got, problem := parseUTC([]byte(tc.in))
		if problem != tc.problem || !got.Equal(tc.want) {
			t.Errorf("parseUTC(%q) = %v, %q; want %v, %q", tc.in, got, problem, tc.want, tc.problem)
		}
	}
}

// FuzzParseRFC3339: whatever the fast parser accepts with an offset,
// time.Parse(RFC3339Nano) reads as the same instant.
func FuzzParseRFC3339(f *testing.F) {
	for _, s := range []string{"2026-03-01T11:59:00Z", "2026-03-01T11:59:00.123+05:30", "2024-02-29T00:00:00-00:00", "2026-03-01T11:59:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, _, hasOff, ok := parseRFC3339([]byte(s))
		if !ok || !hasOff {
			return
		}
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			if s[10] != 'T' || s[len(s)-1] == 'z' || len(s) > 17 && s[17:19] == "60" {
				return
			}
			t.Fatalf("fast parser accepted %q, time.Parse: %v", s, err)
		}
		if !got.Equal(want) {
			t.Fatalf("%q: fast %v, time.Parse %v", s, got, want)
		}
	})
}
