package main

import (
	"bytes"
	"strings"
	"testing"
)

const stream = `{"Action":"start","Package":"a"}
{"Action":"run","Package":"a","Test":"TestOK"}
{"Action":"output","Package":"a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"pass","Package":"a","Test":"TestOK","Elapsed":0}
{"Action":"run","Package":"a","Test":"TestHelm"}
{"Action":"output","Package":"a","Test":"TestHelm","Output":"=== RUN   TestHelm\n"}
{"Action":"output","Package":"a","Test":"TestHelm","Output":"    helm_test.go:9: program helm not found on PATH\n"}
{"Action":"output","Package":"a","Test":"TestHelm","Output":"--- SKIP: TestHelm (0.00s)\n"}
{"Action":"skip","Package":"a","Test":"TestHelm","Elapsed":0}
{"Action":"pass","Package":"a","Elapsed":0.5}
{"Action":"run","Package":"b","Test":"TestBad"}
{"Action":"output","Package":"b","Test":"TestBad","Output":"    b_test.go:3: got 1, want 2\n"}
{"Action":"fail","Package":"b","Test":"TestBad","Elapsed":0}
{"Action":"fail","Package":"b","Elapsed":0.25}
go: warning: something not JSON
`

func TestSummaryListsSkipsAndFailures(t *testing.T) {
	var out bytes.Buffer
	s, err := read(strings.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	s.report(&out)
	got := out.String()
	for _, want := range []string{
		"ok  \ta\t0.500s\n",
		"b_test.go:3: got 1, want 2",
		"FAIL\tb\t0.250s\n",
		"go: warning: something not JSON",
		"1 skipped test(s)",
		"SKIP a TestHelm: helm_test.go:9: program helm not found on PATH",
		"tests: 1 passed, 1 failed, 1 skipped\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if !s.failed {
		t.Error("a failed test did not mark the run failed")
	}
	if strings.Contains(got, "TestOK") {
		t.Errorf("output of a passing test printed:\n%s", got)
	}
}

func TestBuildFailureFails(t *testing.T) {
	in := `{"ImportPath":"c [c.test]","Action":"build-output","Output":"c/x.go:1: syntax error\n"}
{"ImportPath":"c [c.test]","Action":"build-fail"}
{"Action":"fail","Package":"c","Elapsed":0,"FailedBuild":"c [c.test]"}
`
	var out bytes.Buffer
	s, err := read(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if !s.failed || !strings.Contains(out.String(), "syntax error") {
		t.Fatalf("failed=%v output=%q", s.failed, out.String())
	}
}
