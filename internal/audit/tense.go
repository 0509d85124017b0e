package audit

import "strings"

// irregularPast are past tenses and past participles that do not end in
// "-ed", as used in event names ("sent", "built", "begun").
var irregularPast = wordSet(`arisen arose awoke awoken beaten became begun began bent bet bid bitten bled blown
bought bound bred broke broken brought built burnt burst cast caught chosen clung come cost crept cut dealt
done drawn drew dreamt driven drove dug dwelt eaten fallen fed felt fled flown flung forbidden forecast forgiven
forgotten fought found frozen gave given gone got gotten ground grown hung heard held hid hidden hit hurt kept
knelt knew known laid lain led leapt learnt left lent let lit lost made meant met mislaid misled outgrown overcome
overdone overtaken overthrown overwritten paid proven put quit read rebuilt redone remade rerun reset resent
retold rewritten rid ridden risen rode run rung said sat seen sent set sewn shaken shed shone shot shown shrunk
shut slept slid slung sold sought spent split spoken spoilt spread sprung stood stolen stuck struck strung sung
sunk swept sworn swum taken taught thought thrown told torn trod undergone understood undone unbound unwound
upheld upset wed went withdrawn withheld woken won wore worn wound written wrote`)

// notPastEd are words ending in "-ed" that are not past tenses.
var notPastEd = wordSet(`bed bleed breed creed deed embed feed greed heed indeed need proceed red reed seed shred
sled speed steed succeed exceed weed hundred sacred naked wicked rugged ragged kindred`)

func wordSet(s string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// IsPastTense reports whether an event-name action is in the past tense.
// Compound actions joined by "_" or "-" ("spellcheck_requested",
// "pipelines_configured") are judged by their last word, so an imperative
// ("request_spellcheck") or a noun ("upload", "creation") is rejected.
// A word is past when it is a known irregular past form ("sent", "built",
// "begun") or a regular "-ed" form that is not a known "-ed" non-verb
// ("need", "speed", "embed").
func IsPastTense(action string) bool {
	w := strings.ToLower(action)
	if i := strings.LastIndexAny(w, "_-"); i >= 0 {
		w = w[i+1:]
	}
	if w == "" {
		return false
	}
	if irregularPast[w] {
		return true
	}
	if len(w) < 4 || !strings.HasSuffix(w, "ed") || notPastEd[w] {
		return false
	}
	for _, c := range w {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
