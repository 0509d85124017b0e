package store

import (
	"errors"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteIdle is how long a SQLite connection stays open unused. Closing
// idle connections releases the shared lock a WAL connection holds on the
// file, so that another process (an operator's sqlite3 session, a backup)
// can take the file between flushes; while it holds the file exclusively,
// reads fail fast (IsLocked, 503 on the API) and flushes are retried.
const sqliteIdle = 2 * time.Second

// RetryAfter is what the API tells a client to wait (Retry-After) after a
// read the store could not answer: about a flush interval, the time a lock
// or outage takes to show whether it is over.
const RetryAfter = 10 * time.Second

// IsLocked reports whether err is SQLite's "database is locked" or "table
// is locked": another connection or process holds a lock the operation
// needs, and it did not get it within the busy timeout.
func IsLocked(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}
