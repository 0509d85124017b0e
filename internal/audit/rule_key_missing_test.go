package audit

import "testing"

func TestRuleKeyMissing(t *testing.T) {
	noKey := aw(nil)
	noKey.Key = nil
	empty := aw(nil)
	empty.Key = []byte{}
	bare := aw(nil)
	bare.Topic, bare.Key = "", nil
	hk := hule(nil)
	hk.Key = nil
	runRuleCases(t, "key.missing", []ruleCase{
		{name: "keyed", profile: "authorworks", rec: aw(nil)},
		{name: "nil key", profile: "authorworks", rec: noKey, fires: true, msg: `record on topic "content" has no key`},
		{name: "empty key", profile: "authorworks", rec: empty, fires: true},
		{name: "bare event", profile: "authorworks", rec: bare},
		{name: "huleedu does not require keys", profile: "huleedu", rec: hk},
	})
}
