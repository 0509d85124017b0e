package api

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/storetest"

	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// Environment of the lock helper process: the SQLite file and how to lock it.
const (
	lockHelperEnv  = "EVENTWATCH_TEST_LOCK_SQLITE"
	lockHelperMode = "EVENTWATCH_TEST_LOCK_MODE"
)

// Lock modes of the helper process.
const (
	lockWrite     = "write"     // a write transaction in normal locking mode: blocks writers, not WAL readers
	lockExclusive = "exclusive" // locking_mode=EXCLUSIVE and a write: blocks readers too
)

// TestLockHelperProcess is not a test: run as a separate process by
// lockStore, it locks the SQLite file named by $EVENTWATCH_TEST_LOCK_SQLITE
// the way an operator's sqlite3 session would — a write inside an open
// transaction, after PRAGMA locking_mode=EXCLUSIVE in exclusive mode —
// prints "locked" once it holds the lock, and holds it until its stdin
// closes.
func TestLockHelperProcess(t *testing.T) {
	path := os.Getenv(lockHelperEnv)
	if path == "" {
		t.Skip("helper process for TestLockedStore")
	}
	if err := holdLock(path, os.Getenv(lockHelperMode)); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// holdLock locks path until stdin closes. An exclusive lock needs every
// other connection to the file closed (a WAL connection holds a shared
// lock): it is tried again until eventwatch's idle connections close.
func holdLock(path, mode string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		db, err := tryLock(ctx, path, mode)
		if err == nil {
			defer db.Close()
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no %s lock within a minute: %w", mode, err)
		case <-tick.C:
		}
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// tryLock opens path on one connection and takes the lock of mode; the
// returned pool holds it (closing it releases the lock).
func tryLock(ctx context.Context, path, mode string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(100)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	stmts := []string{"BEGIN IMMEDIATE", "INSERT INTO cluster_hours (hour, kind, name, value, total) VALUES (0, 'lock', 'lock', 0, 0)"}
	if mode == lockExclusive {
		stmts = append([]string{"PRAGMA locking_mode=EXCLUSIVE"}, stmts...)
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	return db, nil
}

// lockStore starts the helper process on the store in dir and returns once
// it holds the lock; release ends the process (and so the lock).
func lockStore(t *testing.T, dir, mode string) (release func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+filepath.Join(dir, "eventwatch.db"), lockHelperMode+"="+mode)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("lock helper (%s): %q %v", mode, line, err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			_ = stdin.Close()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(release)
	return release
}

// TestLockedStore: another process locks the SQLite store. (1) It holds a
// write transaction: the ledger's flush waits for it, and report and
// violation reads do not queue behind the flush — they answer 200 before
// their deadline from the last commit. (2) It holds the file exclusively
// (locking_mode=EXCLUSIVE, taken once eventwatch's idle connections
// closed): reads answer 503 with Retry-After, saying the store is locked,
// before their deadline. Once the lock is released they answer 200 with
// every record flushed meanwhile counted.
func TestLockedStore(t *testing.T) {
	dir := t.TempDir()
	st := storetest.OpenSQLite(t, dir)
	c := storetest.NewClock(mon17.Add(36 * time.Hour))
	a, _ := newTestAggregator(t, st, store.Config{}, c)
	observeAll(a, dataset(7, 50, c.Now()))
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	weekly := "/api/v1/reports/weekly?week=2026-W47"
	paths := []string{"/api/v1/reports", weekly, "/api/v1/violations?limit=5"}
	deadline := 2 * store.ReadTimeout

	release := lockStore(t, dir, lockWrite)
	observeAll(a, dataset(8, 20, c.Now()))
	flushed := make(chan error, 1)
	go func() { flushed <- a.Flush(context.Background()) }() // waits for the write lock, then fails (kept for the next flush)
	for _, p := range paths {
		if code, body, _ := getWithin(t, srv.URL+p, deadline); code != http.StatusOK {
			t.Errorf("GET %s while another process writes: %d %q", p, code, body)
		}
	}
	release()
	if err := <-flushed; err != nil { // it got the file after the release, or failed and keeps its rows for the next flush
		t.Logf("flush during the write lock: %v", err)
	}

	release = lockStore(t, dir, lockExclusive)
	for _, p := range paths {
		code, body, h := getWithin(t, srv.URL+p, deadline)
		if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(body, "locked by another process") {
			t.Errorf("GET %s while locked exclusively: %d Retry-After=%q %q", p, code, h.Get("Retry-After"), body)
		}
	}
	release()
	for _, p := range paths {
		wait.Within(t, 30*time.Second, "GET "+p+" answers 200 after the lock is released", func() bool {
			code, _, _ := getWithin(t, srv.URL+p, deadline)
			return code == http.StatusOK
		})
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatalf("flush after the lock: %v", err)
	}
	_, body, _ := getWithin(t, srv.URL+weekly, deadline)
	var r report.Weekly
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Summary.Checked != 70 {
		t.Errorf("after the lock the week counts 50 + 20 records: %v %.300s", err, body)
	}
}

// getWithin GETs url and fails the test when no answer came before the
// deadline d.
func getWithin(t *testing.T, url string, d time.Duration) (int, string, http.Header) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Fatalf("GET %s: no answer within %s", url, d)
	}
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}
