// Package nearest turns a name eventwatch does not know into a useful
// error: the known names closest to it by edit distance, so that a typo in
// a filter (?team=, ?rule=, --rule) is answered with "did you mean", never
// with an empty result that reads as good news.
//
// Distances are Levenshtein distances over the lowercased names, with a
// bonus for a name that contains the other (a prefix or a fragment of a
// long name is a strong hint). Only names within a distance budget that
// grows with the name's length count as near; when none is, the error
// lists a few known names instead.
package nearest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// MaxSuggestions is how many near names an error names at most.
const MaxSuggestions = 3

// Unknown is the error for a name that is not among the known names of its
// kind.
type Unknown struct {
	Kind    string   `json:"kind"`              // what the name names: team, service, rule, topic, group
	Name    string   `json:"name"`              // the name asked for
	Nearest []string `json:"nearest,omitempty"` // known names near it, nearest first
	Known   []string `json:"known,omitempty"`   // a few known names, when none is near
	Total   int      `json:"known_total"`       // how many names of the kind are known
}

// Error renders the message, e.g. `unknown team "paymnts"; did you mean
// payments?` or `unknown rule "x"; known rules include a, b, c (40 in all)`.
func (u *Unknown) Error() string {
	msg := fmt.Sprintf("unknown %s %q", u.Kind, u.Name)
	switch {
	case len(u.Nearest) > 0:
		return msg + "; did you mean " + orList(u.Nearest) + "?"
	case u.Total == 0:
		return msg + "; no " + u.Kind + " is known yet"
	case len(u.Known) < u.Total:
		return fmt.Sprintf("%s; known %ss include %s (%d in all)", msg, u.Kind, strings.Join(u.Known, ", "), u.Total)
	}
	return msg + "; known " + u.Kind + "s: " + strings.Join(u.Known, ", ")
}

func orList(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Check returns nil when name is empty (no filter) or one of known, else
// an *Unknown with the nearest known names.
func Check(kind, name string, known []string) error {
	if name == "" || slices.Contains(known, name) {
		return nil
	}
	u := &Unknown{Kind: kind, Name: name, Nearest: Names(name, known, MaxSuggestions), Total: len(known)}
	if len(u.Nearest) == 0 {
		sorted := slices.Clone(known)
		sort.Strings(sorted)
		u.Known = sorted[:min(len(sorted), 5)]
	}
	return u
}

// Names returns up to n names of known near name, nearest first (ties in
// name order); a name farther than the budget for its length is not near.
func Names(name string, known []string, n int) []string {
	type cand struct {
		name string
		d    int
	}
	q := strings.ToLower(name)
	var cs []cand
	for _, k := range known {
		if k == name {
			continue
		}
		if d := distance(q, strings.ToLower(k)); d <= budget(q, k) {
			cs = append(cs, cand{k, d})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].name < cs[j].name
	})
	out := make([]string, 0, min(n, len(cs)))
	for _, c := range cs[:min(n, len(cs))] {
		out = append(out, c.name)
	}
	return out
}

// budget is the largest distance still called near: a third of the longer
// name, at least 2 (one transposition).
func budget(q, k string) int {
	return max(2, max(len([]rune(q)), len([]rune(k)))/3)
}

// distance is the Levenshtein distance of a and b; one that contains the
// other (case-insensitively) counts as distance 1.
func distance(a, b string) int {
	if a == b {
		return 0
	}
	if len(a) >= 3 && len(b) >= 3 && (strings.Contains(a, b) || strings.Contains(b, a)) {
		return 1
	}
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
