package report

import (
	"context"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/storetest"

	"github.com/eventwatch/eventwatch/internal/store"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseWeek(t *testing.T) {
	tests := []struct {
		in, err string
	}{
		{"2026-W47", ""},
		{"2026-W53", ""}, // 2026 starts on a Thursday: 53 weeks
		{"2020-W53", ""}, // leap year starting on a Wednesday: 53 weeks
		{"2015-W53", ""},
		{"2025-W53", `invalid week "2025-W53": 2025 has weeks 1 to 52`},
		{"2021-W53", `invalid week "2021-W53": 2021 has weeks 1 to 52`},
		{"2026-W00", `invalid week "2026-W00": 2026 has weeks 1 to 53`},
		{"9999-W52", `invalid week "9999-W52": the year must be between 1971 and 9998`},
		{"2026-47", `invalid week "2026-47": want an ISO week like 2026-W47`},
		{"2026-W7", `invalid week "2026-W7": want an ISO week like 2026-W47`},
	}
	for _, tt := range tests {
		w, err := ParseWeek(tt.in)
		switch {
		case tt.err == "" && (err != nil || w.String() != tt.in):
			t.Errorf("ParseWeek(%q) = %v, %v", tt.in, w, err)
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("ParseWeek(%q) error = %v, want %q", tt.in, err, tt.err)
		}
	}
}

// TestWeekRanges checks week boundaries at year ends and across
// daylight-saving changes.
func TestWeekRanges(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		week     Week
		loc      *time.Location
		from, to string
		hours    float64
	}{
		{Week{2026, 1}, time.UTC, "2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z", 168},
		{Week{2026, 53}, time.UTC, "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z", 168},
		{Week{2020, 53}, time.UTC, "2020-12-28T00:00:00Z", "2021-01-04T00:00:00Z", 168},
		{Week{2021, 1}, time.UTC, "2021-01-04T00:00:00Z", "2021-01-11T00:00:00Z", 168},
		{Week{2026, 10}, ny, "2026-03-02T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 167}, // spring forward 8 March
		{Week{2026, 44}, ny, "2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 169}, // fall back 1 November
		{Week{2026, 1}, mustLoc(t, "Pacific/Kiritimati"), "2025-12-29T00:00:00+14:00", "2026-01-05T00:00:00+14:00", 168},
	}
	for _, tt := range tests {
		from, to := tt.week.Range(tt.loc)
		if from.Format(time.RFC3339) != tt.from || to.Format(time.RFC3339) != tt.to || to.Sub(from).Hours() != tt.hours {
			t.Errorf("%s in %s = %s .. %s (%vh), want %s .. %s (%vh)", tt.week, tt.loc, from.Format(time.RFC3339), to.Format(time.RFC3339), to.Sub(from).Hours(), tt.from, tt.to, tt.hours)
		}
		if got := WeekOf(from, tt.loc); got != tt.week {
			t.Errorf("WeekOf(%s) = %s", from, got)
		}
		if got := WeekOf(to.Add(-time.Second), tt.loc); got != tt.week {
			t.Errorf("WeekOf(end of %s) = %s", tt.week, got)
		}
	}
	if p := (Week{2021, 1}).Prev(); p != (Week{2020, 53}) {
		t.Errorf("2021-W01 prev = %s", p)
	}
	if p := (Week{2026, 1}).Prev(); p != (Week{2025, 52}) {
		t.Errorf("2026-W01 prev = %s", p)
	}
}

// TestLastCompleteDependsOnZone: the same instant is Sunday in UTC and
// Monday in Kiritimati (UTC+14), so the last complete week differs.
func TestLastCompleteDependsOnZone(t *testing.T) {
	now := time.Date(2026, 1, 4, 12, 0, 0, 0, time.UTC)
	if got := LastComplete(now, time.UTC); got != (Week{2025, 52}) {
		t.Errorf("UTC: %s, want 2025-W52", got)
	}
	if got := LastComplete(now, mustLoc(t, "Pacific/Kiritimati")); got != (Week{2026, 1}) {
		t.Errorf("Kiritimati: %s, want 2026-W01", got)
	}
}

// TestReportWeekFollowsZone stores records either side of the UTC week
// boundary and checks which week they land in for UTC and Europe/Oslo.
func TestReportWeekFollowsZone(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	write := func(hour time.Time, n int64) {
		if err := st.Write(context.Background(), &store.Batch{Records: []store.RecordAgg{{Hour: hour, Service: "s", Topic: "t", EventType: "e", Checked: n, Compliant: n}}}); err != nil {
			t.Fatal(err)
		}
	}
	write(time.Date(2026, 11, 22, 22, 0, 0, 0, time.UTC), 1)  // Sunday 23:00 in Oslo: W47 both
	write(time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC), 10) // Sunday in UTC (W47), Monday 00:00 in Oslo (W48)
	write(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), 100) // Monday: W48 both
	oslo := mustLoc(t, "Europe/Oslo")
	for _, tt := range []struct {
		loc      *time.Location
		w47, w48 int64
	}{{time.UTC, 11, 100}, {oslo, 1, 110}} {
		for w, want := range map[Week]int64{{2026, 47}: tt.w47, {2026, 48}: tt.w48} {
			r, err := Build(context.Background(), st, w, "", tt.loc, time.Now())
			if err != nil || r.Summary.Checked != want {
				t.Errorf("%s in %s: checked %d, %v; want %d", w, tt.loc, r.Summary.Checked, err, want)
			}
		}
		weeks, err := Weeks(context.Background(), st, tt.loc, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		if err != nil || len(weeks) != 2 || weeks[0].Week != "2026-W48" || weeks[0].Checked != tt.w48 || !weeks[1].Complete {
			t.Errorf("weeks in %s: %+v, %v", tt.loc, weeks, err)
		}
	}
}

// FuzzParseWeek: any accepted week formats back to its input, starts on a
// Monday and contains exactly the instants WeekOf maps to it.
func FuzzParseWeek(f *testing.F) {
	for _, s := range []string{"2026-W47", "2026-W53", "2020-W53", "2025-W53", "0000-W01", "9999-W52", "2026-W00", "2026-w47", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWeek(s)
		if err != nil {
			return
		}
		if w.String() != s {
			t.Fatalf("ParseWeek(%q).String() = %q", s, w)
		}
		from, to := w.Range(time.UTC)
		if from.Weekday() != time.Monday || to.Sub(from) != 7*24*time.Hour {
			t.Fatalf("%s: %s .. %s", s, from, to)
		}
		if WeekOf(from, time.UTC) != w || WeekOf(to.Add(-time.Nanosecond), time.UTC) != w || WeekOf(to, time.UTC) == w {
			t.Fatalf("%s: WeekOf disagrees with Range", s)
		}
	})
}
