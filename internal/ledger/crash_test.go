package ledger

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
)

// The crash test re-executes the test binary as a child that runs a real
// aggregator (Run with a short flush interval) against a SQLite file.
const (
	childEnv     = "EVENTWATCH_REPORT_CHILD"   // data directory; set only in the child
	childBatches = "EVENTWATCH_REPORT_BATCHES" // batches before a clean exit; 0 = until killed
	batchSize    = 100
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		n, _ := strconv.Atoi(os.Getenv(childBatches))
		if err := runChild(dir, n, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}

// runChild observes batches of records in lockstep with its parent: after
// each batch it waits until a flush that started after the batch is done,
// prints "flushed N" (N records observed and stored so far) and, in
// until-killed mode, waits for "go" on stdin before the next batch.
func runChild(dir string, batches int, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := store.Config{FlushInterval: 50 * time.Millisecond}
	cfg.SetDefaults()
	st, err := store.Open(ctx, cfg, dir, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	a := New(st, cfg, prometheus.NewRegistry(), nil)
	flushed := make(chan error, 16)
	a.onFlushDone = func(err error) { flushed <- err }
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stdin := bufio.NewScanner(in)
	for i := 1; batches == 0 || i <= batches; i++ {
		observeAll(a, dataset(uint64(i), batchSize, time.Now()))
		if err := waitFlushes(flushed, 2); err != nil {
			return err
		}
		fmt.Fprintf(out, "flushed %d\n", i*batchSize)
		if batches == 0 && !stdin.Scan() {
			return nil
		}
	}
	cancel()
	return <-done
}

// waitFlushes waits for n successful flushes after draining older ones.
func waitFlushes(ch chan error, n int) error {
	for len(ch) > 0 {
		if err := <-ch; err != nil {
			continue // an older flush's failure is not one of those waited for
		}
	}
	for n > 0 {
		if err := <-ch; err != nil {
			return err
		}
		n--
	}
	return nil
}

func startChild(t *testing.T, dir string, batches int) (*exec.Cmd, io.WriteCloser, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, childBatches+"="+strconv.Itoa(batches))
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, stdin, bufio.NewScanner(stdout)
}

func storedChecked(t *testing.T, dir string) int64 {
	t.Helper()
	st := storetest.OpenSQLite(t, dir)
	defer st.Close()
	hours, err := st.Hours(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, h := range hours {
		n += h.Checked
	}
	return n
}

// TestCrashLosesAtMostOneInterval kills the aggregator process with SIGKILL
// mid-run, then restarts it: the store holds everything flushed before the
// kill (at most the batch in flight is lost) and the restart adds to the
// same hourly rows.
func TestCrashLosesAtMostOneInterval(t *testing.T) {
	dir := t.TempDir()
	cmd, stdin, lines := startChild(t, dir, 0)
	confirmed := 0
	for confirmed < 5*batchSize && lines.Scan() {
		confirmed, _ = strconv.Atoi(strings.TrimPrefix(lines.Text(), "flushed "))
		fmt.Fprintln(stdin, "go") // the child observes one more batch, then waits
	}
	if confirmed < 5*batchSize {
		t.Fatalf("child stopped after %d records", confirmed)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no final flush
		t.Fatal(err)
	}
	_ = cmd.Wait() // killed: the error is the signal
	afterKill := storedChecked(t, dir)
	if afterKill < int64(confirmed) || afterKill > int64(confirmed+batchSize) {
		t.Fatalf("after kill -9 the store holds %d records; confirmed %d, at most %d observed", afterKill, confirmed, confirmed+batchSize)
	}

	cmd, _, lines = startChild(t, dir, 3)
	for lines.Scan() {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("restarted child: %v", err)
	}
	if got := storedChecked(t, dir); got != afterKill+3*batchSize {
		t.Fatalf("after restart the store holds %d records, want %d + %d", got, afterKill, 3*batchSize)
	}
}
