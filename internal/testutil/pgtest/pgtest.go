// Package pgtest gives tests a real PostgreSQL server. When
// EVENTWATCH_TEST_POSTGRES_DSN is set (CI may start one server for the whole
// run) tests get a fresh database on that server; otherwise a throwaway
// server is created with Debian's binaries (initdb and pg_ctl under
// /usr/lib/postgresql/*/bin, or on PATH) in a temporary directory, listening
// on 127.0.0.1 and a free port, trust authentication, and removed when the
// test ends. PostgreSQL refuses to run as root, so as root the server runs as
// the "postgres" user through runuser.
//
// A missing PostgreSQL skips the test locally and fails it in CI (see
// testutil/bins).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" database/sql driver

	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

// EnvDSN names the variable holding an existing server's admin DSN.
const EnvDSN = "EVENTWATCH_TEST_POSTGRES_DSN"

// Server is a PostgreSQL server for one test.
type Server struct {
	admin  string // DSN of the maintenance database
	bin    string // directory holding pg_ctl, empty for an external server
	dir    string // data directory
	port   int
	asUser string // user to run the binaries as, empty for the current user
}

// DSN returns a fresh, empty database for t: on the EnvDSN server when the
// variable is set, else on the package's shared server when the test binary
// runs through Main, else on a throwaway server started for t.
func DSN(t testing.TB) string {
	t.Helper()
	if env := os.Getenv(EnvDSN); env != "" {
		return (&Server{admin: env}).NewDatabase(t)
	}
	if s := sharedServer(t); s != nil {
		return s.NewDatabase(t)
	}
	return Start(t).NewDatabase(t)
}

var shared struct {
	mu      sync.Mutex
	enabled bool    // Main is running the tests
	srv     *Server // started by the first DSN call
}

// Main runs the package's tests with one server shared by every DSN call
// (each test still gets its own database), removed when the tests end. Use
// it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.enabled = true
	shared.mu.Unlock()
	defer func() {
		shared.mu.Lock()
		defer shared.mu.Unlock()
		if shared.srv != nil {
			shared.srv.destroy()
		}
	}()
	return m.Run()
}

func sharedServer(t testing.TB) *Server {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.enabled {
		return nil
	}
	if shared.srv == nil {
		shared.srv = start(t)
	}
	return shared.srv
}

// Start creates and starts a throwaway server, stopped and deleted when t
// ends. It skips (locally) or fails (CI) when the binaries are missing.
func Start(t testing.TB) *Server {
	t.Helper()
	s := start(t)
	t.Cleanup(s.destroy)
	return s
}

// destroy stops the server at once and deletes its directory.
func (s *Server) destroy() {
	_, _ = s.pgctl("stop", "-m", "immediate")
	_ = os.RemoveAll(s.dir)
}

func start(t testing.TB) *Server {
	t.Helper()
	s := &Server{bin: findBin(t)}
	if os.Geteuid() == 0 {
		s.asUser = "postgres"
	}
	s.dir = s.makeDir(t)
	s.port = freePort(t)
	s.run(t, "initdb", "-D", filepath.Join(s.dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	s.admin = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	s.StartAgain(t)
	return s
}

// Stop stops the server (fast shutdown); StartAgain brings it back on the
// same port with the same data. Only for servers made by Start.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if out, err := s.pgctl("stop", "-m", "fast", "-w"); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// StartAgain starts a stopped server and waits until it accepts connections.
func (s *Server) StartAgain(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -F", s.port, s.dir)
	if out, err := s.pgctl("start", "-w", "-t", "60", "-o", opts, "-l", filepath.Join(s.dir, "server.log")); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// AdminDSN returns the DSN of the server's maintenance database.
func (s *Server) AdminDSN() string { return s.admin }

// NewDatabase creates a uniquely named database, dropped when t ends, and
// returns its DSN.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := "ewtest_" + randomHex(6)
	run := func(q string) error {
		db, err := sql.Open("pgx", s.admin)
		if err != nil {
			return err
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err = db.ExecContext(ctx, q)
		return err
	}
	if err := run("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { _ = run("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	u, err := url.Parse(s.admin)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvDSN, err)
	}
	u.Path = "/" + name
	return u.String()
}

func findBin(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return filepath.Dir(bins.Require(t, "apt-get install postgresql", "initdb"))
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func (s *Server) makeDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatalf("create server directory: %v", err)
	}
	if s.asUser == "" {
		return dir
	}
	u, err := user.Lookup(s.asUser)
	if err != nil {
		_ = os.RemoveAll(dir)
		t.Fatalf("running as root needs the %q user (from the postgresql package): %v", s.asUser, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatalf("chown server directory: %v", err)
	}
	return dir
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	prog := filepath.Join(s.bin, name)
	if s.asUser != "" {
		return exec.Command("runuser", append([]string{"-u", s.asUser, "--", prog}, args...)...)
	}
	return exec.Command(prog, args...)
}

func (s *Server) run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := s.command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

func (s *Server) pgctl(args ...string) ([]byte, error) {
	args = append(args, "-D", filepath.Join(s.dir, "data"))
	return s.command("pg_ctl", args...).CombinedOutput()
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
