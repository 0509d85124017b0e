package audit

import "time"

// parseUTC parses an RFC 3339 timestamp that must be in UTC ("Z" or
// "+00:00"), returning a problem description when it is not. It does not
// allocate.
func parseUTC(b []byte) (time.Time, string) {
	t, off, hasOff, ok := parseRFC3339(b)
	switch {
	case ok && hasOff && (off != 0 || (len(b) > 6 && b[len(b)-6] == '-')):
		return time.Time{}, "is not in UTC"
	case ok && hasOff:
		return t, ""
	case ok:
		return time.Time{}, "has no UTC offset (naive local time)"
	}
	return time.Time{}, "is not an RFC 3339 timestamp"
}

// parseRFC3339 reads YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM] ("t", "z"
// and a space separator are accepted as RFC 3339 allows). It returns the
// time in UTC, the offset in seconds, and whether an offset was present.
func parseRFC3339(b []byte) (t time.Time, off int, hasOff, ok bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return t, 0, false, false
	}
	year, ok1 := digitsN(b[0:4])
	month, ok2 := digitsN(b[5:7])
	day, ok3 := digitsN(b[8:10])
	hour, ok4 := digitsN(b[11:13])
	minute, ok5 := digitsN(b[14:16])
	sec, ok6 := digitsN(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 60 {
		return t, 0, false, false
	}
	rest := b[19:]
	nsec, rest, ok := fraction(rest)
	if !ok {
		return t, 0, false, false
	}
	off, hasOff, ok = zone(rest)
	if !ok {
		return t, 0, false, false
	}
	if day > daysIn(month, year) && sec != 60 {
		return time.Time{}, 0, false, false
	}
	// What time.Date(...).Add(-off) gives (a leap second or an
	// out-of-range day under one carries over the same way), without its
	// general normalisation.
	unix := (daysFromCivil(year, month, day)*24+int64(hour))*3600 + int64(minute)*60 + int64(sec) - int64(off)
	return time.Unix(unix, int64(nsec)).UTC(), off, hasOff, true
}

// daysIn is the number of days in month of year (proleptic Gregorian).
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to year-month-day
// (H. Hinnant's algorithm; year >= 0 here, month 1-12).
func daysFromCivil(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	m := int64(month) + 9
	if month > 2 {
		m = int64(month) - 3
	}
	doy := (153*m+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func digitsN(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// fraction reads ".ddd" (1-9 digits) and returns nanoseconds.
func fraction(b []byte) (int, []byte, bool) {
	if len(b) == 0 || b[0] != '.' {
		return 0, b, true
	}
	i, ns := 1, 0
	for i < len(b) && isDigit(b[i]) {
		if i <= 9 {
			ns = ns*10 + int(b[i]-'0')
		}
		i++
	}
	if i == 1 || i > 10 {
		return 0, b, false
	}
	for k := i; k <= 9; k++ {
		ns *= 10
	}
	return ns, b[i:], true
}

// zone reads "", "Z" or "±HH:MM".
func zone(b []byte) (off int, has, ok bool) {
	switch {
	case len(b) == 0:
		return 0, false, true
	case len(b) == 1 && (b[0] == 'Z' || b[0] == 'z'):
		return 0, true, true
	case len(b) == 6 && (b[0] == '+' || b[0] == '-') && b[3] == ':':
		h, ok1 := digitsN(b[1:3])
		m, ok2 := digitsN(b[4:6])
		if !ok1 || !ok2 || h > 23 || m > 59 {
			return 0, false, false
		}
		off = h*3600 + m*60
		if b[0] == '-' {
			off = -off
		}
		return off, true, true
	}
	return 0, false, false
}
