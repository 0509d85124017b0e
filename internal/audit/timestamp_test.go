package audit

import (
	"fmt"
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

// TestParseRFC3339MatchesTimeDate checks the direct epoch arithmetic
// against time.Date(...).Add(-offset) over leap years, month ends, leap
// seconds, out-of-range days and offsets.
func TestParseRFC3339MatchesTimeDate(t *testing.T) {
	years := []int{0, 1, 4, 99, 100, 400, 1582, 1899, 1900, 1969, 1970, 1999, 2000, 2024, 2026, 2100, 9999}
	for _, y := range years {
		for m := 1; m <= 12; m++ {
			for _, d := range []int{1, 15, 28, 29, 30, 31} {
				for _, hms := range [][3]int{{0, 0, 0}, {23, 59, 59}, {23, 59, 60}, {12, 30, 60}} {
					for _, z := range []string{"Z", "+00:00", "+05:30", "-11:45"} {
						in := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d.25%s", y, m, d, hms[0], hms[1], hms[2], z)
						got, off, _, ok := parseRFC3339([]byte(in))
						ref := time.Date(y, time.Month(m), d, hms[0], hms[1], hms[2], 250000000, time.UTC)
						wantOK := ref.Day() == d || hms[2] == 60
						if ok != wantOK {
							t.Fatalf("%s: ok = %v, want %v", in, ok, wantOK)
						}
						if want := ref.Add(-time.Duration(off) * time.Second); ok && got != want {
							t.Fatalf("%s: %v, want %v", in, got, want)
						}
					}
				}
			}
		}
	}
}
