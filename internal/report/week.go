package report

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Week is an ISO 8601 week (Monday to Sunday; week 1 holds the year's first
// Thursday, so a year has 52 or 53 weeks).
type Week struct {
	Year int // ISO week-numbering year (may differ from the calendar year around New Year)
	Num  int // week number, 1..52 or 53
}

var weekRE = regexp.MustCompile(`^(\d{4})-W(\d{2})$`)

// ParseWeek parses "2026-W47". It rejects weeks the year does not have
// (2025-W53) with a message that says why.
func ParseWeek(s string) (Week, error) {
	m := weekRE.FindStringSubmatch(s)
	if m == nil {
		return Week{}, fmt.Errorf("invalid week %q: want an ISO week like 2026-W47", s)
	}
	y, _ := strconv.Atoi(m[1])
	n, _ := strconv.Atoi(m[2])
	if y < MinYear || y > MaxYear {
		return Week{}, fmt.Errorf("invalid week %q: the year must be between %d and %d", s, MinYear, MaxYear)
	}
	if n < 1 || n > WeeksIn(y) {
		return Week{}, fmt.Errorf("invalid week %q: %d has weeks 1 to %d", s, y, WeeksIn(y))
	}
	return Week{Year: y, Num: n}, nil
}

// Years ParseWeek accepts: every week of them, and the week before (for
// trends), starts and ends within years JSON and RFC 3339 can write.
const (
	MinYear = 1971
	MaxYear = 9998
)

// WeeksIn returns 52 or 53: the number of ISO weeks in year y.
func WeeksIn(y int) int {
	_, w := time.Date(y, 12, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// WeekOf returns the ISO week containing t in loc.
func WeekOf(t time.Time, loc *time.Location) Week {
	y, n := t.In(loc).ISOWeek()
	return Week{Year: y, Num: n}
}

// LastComplete returns the most recent week that ended before now in loc.
func LastComplete(now time.Time, loc *time.Location) Week {
	from, _ := WeekOf(now, loc).Range(loc)
	return WeekOf(from.Add(-time.Hour), loc)
}

// String formats w as "2026-W47".
func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Num) }

// Range returns the week's start (Monday 00:00 in loc) and end (the next
// Monday 00:00). Across a daylight-saving change the week is 167 or 169
// hours long.
func (w Week) Range(loc *time.Location) (from, to time.Time) {
	jan4 := time.Date(w.Year, 1, 4, 0, 0, 0, 0, loc)
	back := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	day := 4 - back + 7*(w.Num-1)
	return time.Date(w.Year, 1, day, 0, 0, 0, 0, loc), time.Date(w.Year, 1, day+7, 0, 0, 0, 0, loc)
}

// Prev returns the week before w.
func (w Week) Prev() Week {
	from, _ := w.Range(time.UTC)
	return WeekOf(from.AddDate(0, 0, -3), time.UTC)
}

// DefaultWeek is the week a report opens on: the current one (in progress)
// when it has data, else the most recent week with data, else the current
// one (which then says "no data").
func DefaultWeek(weeks []WeekInfo, now time.Time, loc *time.Location) Week {
	cur := WeekOf(now, loc)
	for _, w := range weeks { // newest first
		if w.Checked == 0 {
			continue
		}
		if wk, err := ParseWeek(w.Week); err == nil {
			return wk
		}
	}
	return cur
}
