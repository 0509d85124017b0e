package websocket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Heartbeat kinds (the kind label of the heartbeat histogram).
const (
	beatPing    = "ping"    // a ping frame from the server
	beatMessage = "message" // a heartbeat message (Module.HeartbeatMessages)
)

type beat struct {
	at   time.Time
	kind string
}

// session is the authenticated connection of one probe while it is
// listened to: a reader goroutine audits what arrives, a ping goroutine
// asks whether the server answers pings.
type session struct {
	run    *probeRun
	conn   *websocket.Conn
	opened time.Time
	// openedMono is opened on the monotonic clock (opened may come from an
	// injected clock); the listen window is timed from it.
	openedMono time.Time
	closing    atomic.Bool // eventwatch is closing: a read error after it is ours
	readErr    chan error  // the reader's final error
	pinged     chan struct{}
	ended      atomic.Bool        // the listen window is over: a ping timing out now says nothing
	stopPng    context.CancelFunc // cancels the ping when the session ends early
}

// listen starts reading conn; the session ends with wait.
func (r *probeRun) listen(ctx context.Context, conn *websocket.Conn) *session {
	s := &session{run: r, conn: conn, opened: r.now(), openedMono: time.Now(), readErr: make(chan error, 1), pinged: make(chan struct{})}
	pctx, cancel := context.WithTimeout(ctx, r.t.mod.PingTimeout)
	s.stopPng = cancel
	go s.read(ctx)
	go s.ping(pctx)
	return s
}

func (s *session) read(ctx context.Context) {
	for {
		typ, data, err := s.conn.Read(ctx)
		if err != nil {
			s.readErr <- err
			return
		}
		s.run.message(typ, data)
	}
}

func (s *session) ping(ctx context.Context) {
	defer close(s.pinged)
	t0 := time.Now()
	err := s.conn.Ping(ctx)
	s.run.mu.Lock()
	defer s.run.mu.Unlock()
	hb := &s.run.res.Heartbeat
	switch {
	case err == nil:
		hb.PingAnswered, hb.PongRTTSec = ptr(true), time.Since(t0).Seconds()
	case errors.Is(err, context.DeadlineExceeded) && !s.ended.Load():
		hb.PingAnswered = ptr(false)
	}
}

// wait holds the connection until the listen window, counted from the
// upgrade, ends (or the server closes it, or ctx ends), closes it, and
// returns when it ended and the error that ended it early (nil when the
// window ran out).
func (s *session) wait(ctx context.Context) (time.Time, error) {
	timer := time.NewTimer(time.Until(s.openedMono.Add(s.run.window)))
	defer timer.Stop()
	var early error
	readerDone := false
	select {
	case <-timer.C:
	case early = <-s.readErr:
		readerDone = true
	case <-ctx.Done():
		early = fmt.Errorf("probe deadline: %w", ctx.Err())
	}
	ended := s.run.now()
	if early != nil { // the answer to a ping in flight can no longer come
		s.ended.Store(true)
		s.stopPng()
	}
	if !readerDone {
		s.closeGracefully()
	}
	<-s.pinged
	s.stopPng()
	return ended, early
}

// closeGracefully sends a normal close and waits briefly for the server's
// close frame; a server that never answers gets the connection cut.
func (s *session) closeGracefully() {
	s.closing.Store(true)
	done := make(chan struct{})
	go func() {
		_ = s.conn.Close(websocket.StatusNormalClosure, "eventwatch probe done")
		close(done)
	}()
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		_ = s.conn.CloseNow()
		<-done
	}
	select { // the reader ends on the closed connection
	case err := <-s.readErr:
		_ = err // ours: eventwatch closed it
	case <-time.After(2 * time.Second):
	}
}

// message handles one data message: a heartbeat, or an event to audit.
func (r *probeRun) message(typ websocket.MessageType, data []byte) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	m := &r.res.Messages
	m.Received++
	if typ == websocket.MessageBinary {
		m.Binary++
	}
	if typ == websocket.MessageText && isHeartbeat(data, r.t.mod.HeartbeatMessages) {
		m.Heartbeats++
		r.beats = append(r.beats, beat{now, beatMessage})
		r.t.m.received(beatMessage)
		return
	}
	r.t.m.received("event")
	if m.Audited >= r.t.mod.MaxMessages {
		return
	}
	r.audit(data, now)
}

// onPing records a ping frame from the server (called by the library on
// the reader goroutine).
func (r *probeRun) onPing() {
	now := r.now()
	r.mu.Lock()
	r.beats = append(r.beats, beat{now, beatPing})
	r.mu.Unlock()
}

// isHeartbeat reports whether data is a JSON object matching one of the
// heartbeat shapes.
func isHeartbeat(data []byte, shapes []HeartbeatMatch) bool {
	if len(shapes) == 0 || len(data) == 0 || data[0] != '{' {
		return false
	}
	var obj map[string]any
	if json.Unmarshal(data, &obj) != nil {
		return false
	}
	for _, h := range shapes {
		if v, ok := lookup(obj, h.Path).(string); ok && v == h.Equals {
			return true
		}
	}
	return false
}

func lookup(obj map[string]any, path string) any {
	var cur any = obj
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func ptr[T any](v T) *T { return &v }
