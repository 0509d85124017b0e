package readers

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Retirement is the verdict on retiring one version of a type.
type Retirement struct {
	Retirable bool     `json:"retirable"`
	Verdict   string   `json:"verdict"`            // one sentence, e.g. "1.0 can be retired: no producer for 7d, every reader also reads 2.0"
	Blockers  []string `json:"blockers,omitempty"` // what keeps it from being retired
}

// judge sets the retirement verdict of every version: a version can be
// retired when a newer version of its type exists, no producer emitted it
// within window, and every group that read it also reads a newer version
// and has nothing of it left unread.
func judge(types []TypeVersion, now time.Time, window time.Duration) {
	byType := map[string][]*TypeVersion{}
	for i := range types {
		f := Family(types[i].Type, types[i].Version)
		byType[f] = append(byType[f], &types[i])
	}
	for _, versions := range byType {
		for _, v := range versions {
			v.Retirement = verdict(v, newerThan(v, versions), now, window)
		}
	}
}

func newerThan(v *TypeVersion, all []*TypeVersion) []*TypeVersion {
	var out []*TypeVersion
	for _, o := range all {
		if CompareVersions(o.Version, v.Version) > 0 {
			out = append(out, o)
		}
	}
	return out
}

func verdict(v *TypeVersion, newer []*TypeVersion, now time.Time, window time.Duration) Retirement {
	name := versionName(v.Version)
	if len(newer) == 0 {
		msg := "it is the newest version of " + Family(v.Type, v.Version)
		return Retirement{Verdict: name + " cannot be retired: " + msg, Blockers: []string{msg}}
	}
	var blockers []string
	for _, p := range v.Producers {
		if age := now.Sub(p.LastSeen); age < window {
			blockers = append(blockers, fmt.Sprintf("%s produced it %s ago", p.Service, roundAge(age)))
		}
	}
	for _, r := range v.Readers {
		if !readsAny(r.Group, newer) {
			blockers = append(blockers, fmt.Sprintf("group %s reads it (last %s ago) but no newer version", r.Group, roundAge(now.Sub(r.LastRead))))
		}
		if r.BehindEvents > 0 {
			blockers = append(blockers, fmt.Sprintf("group %s has %d of its events still unread", r.Group, r.BehindEvents))
		}
	}
	if len(blockers) > 0 {
		return Retirement{Verdict: name + " cannot be retired: " + strings.Join(blockers, "; "), Blockers: blockers}
	}
	readers := "no group reads it"
	if len(v.Readers) > 0 {
		readers = "every reader also reads " + versionNames(newer)
	}
	return Retirement{Retirable: true, Verdict: fmt.Sprintf("%s can be retired: no producer for %s, %s", name, spelled(window), readers)}
}

// spelled says a window in words: "7 days", "1 hour", "90 seconds".
func spelled(d time.Duration) string {
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return fmt.Sprintf("%d %ss", n, name)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	}
	return unit(int64(d.Round(time.Second)/time.Second), "second")
}

func readsAny(group string, versions []*TypeVersion) bool {
	for _, v := range versions {
		for _, r := range v.Readers {
			if r.Group == group {
				return true
			}
		}
	}
	return false
}

func versionName(v string) string {
	if v == "" {
		return "(no version)"
	}
	return "v" + strings.TrimPrefix(v, "v")
}

func versionNames(vs []*TypeVersion) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = versionName(v.Version)
	}
	return strings.Join(names, " or ")
}

// roundAge prints a duration the way people say it: 7d, 3h, 12m, 40s.
func roundAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d >= 24*time.Hour && d%(24*time.Hour) < time.Hour:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= 24*time.Hour:
		return fmt.Sprintf("%.1fd", d.Hours()/24)
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

// Family is the name shared by every version of a type: the type without
// a version suffix that repeats its version (HuleEdu's
// "huleedu.content.book.published.v2" is of family
// "huleedu.content.book.published"); other types are their own family.
func Family(typ, version string) string {
	i := strings.LastIndexAny(typ, "._-")
	if i < 0 || version == "" {
		return typ
	}
	suffix := typ[i+1:]
	if (strings.HasPrefix(suffix, "v") || strings.HasPrefix(suffix, "V")) && SameVersion(suffix, version) {
		return typ[:i]
	}
	return typ
}

// CompareVersions orders versions numerically segment by segment ("1" is
// "1.0", "1.10" is after "1.9"; a leading v is ignored); a non-numeric
// segment compares as text.
func CompareVersions(a, b string) int {
	as, bs := versionParts(a), versionParts(b)
	for i := range max(len(as), len(bs)) {
		x, y := part(as, i), part(bs, i)
		xn, xerr := strconv.Atoi(x)
		yn, yerr := strconv.Atoi(y)
		switch {
		case xerr == nil && yerr == nil && xn != yn:
			if xn < yn {
				return -1
			}
			return 1
		case (xerr != nil || yerr != nil) && x != y:
			return strings.Compare(x, y)
		}
	}
	return 0
}

// SameVersion reports whether two versions are equal once normalized.
func SameVersion(a, b string) bool { return CompareVersions(a, b) == 0 }

func versionParts(v string) []string {
	v = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(v), "v"), "V")
	if v == "" {
		return nil
	}
	return strings.Split(v, ".")
}

func part(ps []string, i int) string {
	if i < len(ps) {
		return ps[i]
	}
	return "0"
}
