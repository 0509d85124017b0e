package audit

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestRuleBlobField(t *testing.T) {
	essay := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40)
	b64 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("binary\x00\x01\x02payload", 30)))
	dataURI := "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("png", 40)))
	data := func(inner string) map[string]string { return map[string]string{"data": inner} }
	runRuleCases(t, "size.blob_field", []ruleCase{
		{name: "storage reference", profile: "huleedu", rec: hule(nil)},
		{name: "full essay text", profile: "huleedu", rec: hule(data(`{"essay":{"text":"` + essay + `"}}`)),
			fires: true, field: "data.essay.text", msg: "free text of 1800 bytes (limit 1024)"},
		{name: "base64", profile: "huleedu", rec: hule(data(`{"attachments":[{"content":"` + b64 + `"}]}`)),
			fires: true, field: "data.attachments[0].content", msg: "base64-encoded content"},
		{name: "data uri", profile: "huleedu", rec: hule(data(`{"avatar":"` + dataURI + `"}`)),
			fires: true, field: "data.avatar", msg: "inline data: URI"},
		{name: "long url is a reference", profile: "huleedu",
			rec: hule(data(`{"ref":"https://storage.example.com/bucket/` + strings.Repeat("a/", 100) + `essay.txt"}`))},
		{name: "authorworks has no thin-event rule", profile: "authorworks", rec: aw(data(`{"text":"` + essay + `"}`))},
	})
}

func TestLooksBase64(t *testing.T) {
	cases := map[string]bool{
		"SGVsbG8gV29ybGQhIFRoaXMgaXMgYmFzZTY0":  true,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": false,
		"0123456789abcdef0123456789abcdef":      false,
		"Hello world this is text":              false,
		"s3://bucket/Key123":                    false,
	}
	for in, want := range cases {
		if got := looksBase64([]byte(in)); got != want {
			t.Errorf("looksBase64(%q) = %v, want %v", in, got, want)
		}
	}
}
