package kfaketest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// addrsPrefix starts the line on which a child process announces its
// cluster's addresses.
const addrsPrefix = "ADDRS "

// ServeForParent is the child side of StartChild: it prints c's addresses
// for the parent and blocks until the parent closes the child's stdin.
// Benchmarks run their broker this way so the CPU and RSS they report are
// the code under test's alone.
func ServeForParent(c *kfake.Cluster) {
	fmt.Printf("%s%s\n", addrsPrefix, strings.Join(c.ListenAddrs(), ","))
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// StartChild re-runs the test binary with args and env=1 (the child is
// expected to call ServeForParent), waits for the cluster's addresses and
// returns them with the child's pid. The child stops when the test ends.
func StartChild(t testing.TB, env string, args ...string) ([]string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), env+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("kfake child stdin: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("kfake child stdout: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kfake child: %v", err)
	}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if addrs, ok := strings.CutPrefix(sc.Text(), addrsPrefix); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return strings.Split(addrs, ","), cmd.Process.Pid
		}
	}
	t.Fatalf("kfake child exited before listing its addresses: %v", sc.Err())
	return nil, 0
}
