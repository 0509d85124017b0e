package demo

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	ws "github.com/eventwatch/eventwatch/internal/websocket"
)

// The two simulated WebSocket services (the AuthorWorks standard's
// real-time transport), served on one loopback port:
//
//   - content-service on /v1/content-service/ws follows the standard: it
//     refuses an upgrade without a valid HS256 JWT (401), pushes
//     content.book.published events in the meta+data envelope and pings
//     every 30 s;
//   - presence-service on /v1/presence-service/ws accepts anyone
//     (websocket.auth_missing, websocket.auth_invalid_accepted), pushes
//     events whose type breaks the naming pattern (naming.event_type; the
//     type is also not in the catalog) and pings every 45 s
//     (websocket.heartbeat_late).
const (
	WSServiceCompliant = "content-service"
	WSServiceFaulty    = "presence-service"
	wsEventEvery       = 2 * time.Second
	wsListen           = 100 * time.Second // two 45 s heartbeats fit: the histogram gets an interval
)

// wsSim is the running WebSocket services.
type wsSim struct {
	srv    *http.Server
	addr   string
	secret []byte
	seed   int64
	conns  atomic.Uint64
	log    *slog.Logger
	// heartbeat periods of the compliant and the faulty service (30 s and
	// 45 s; tests shorten them)
	beatOK, beatLate time.Duration
}

// startWebSockets serves the two services on 127.0.0.1 until ctx is done.
func startWebSockets(ctx context.Context, seed int64, log *slog.Logger) (*wsSim, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the WebSocket services: %w", err)
	}
	s := &wsSim{addr: ln.Addr().String(), secret: make([]byte, 32), seed: seed, log: log,
		beatOK: 30 * time.Second, beatLate: 45 * time.Second}
	if _, err := rand.Read(s.secret); err != nil {
		return nil, fmt.Errorf("demo JWT secret: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/"+WSServiceCompliant+"/ws", s.compliant)
	mux.HandleFunc("/v1/"+WSServiceFaulty+"/ws", s.faulty)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	context.AfterFunc(ctx, func() { _ = s.srv.Close() })
	return s, nil
}

// config is the websocket section probing both services with the
// authorworks profile; the token goes to dataDir/websocket.jwt.
func (s *wsSim) config(dataDir string) (ws.Config, error) {
	tok := filepath.Join(dataDir, "websocket.jwt")
	if err := os.WriteFile(tok, []byte(s.token(time.Now().Add(365*24*time.Hour))), 0o600); err != nil {
		return ws.Config{}, fmt.Errorf("write the demo JWT: %w", err)
	}
	c := ws.Config{Interval: 2 * time.Minute, Modules: map[string]ws.Module{"demo": {Listen: wsListen}}}
	for _, svc := range []string{WSServiceCompliant, WSServiceFaulty} {
		c.Targets = append(c.Targets, ws.Target{Name: svc, URL: "ws://" + s.addr + "/v1/" + svc + "/ws", Service: svc,
			Module: "demo", Profile: "authorworks", TokenFile: tok})
	}
	return c, nil
}

// token is an HS256 JWT for the prober, valid until exp.
func (s *wsSim) token(exp time.Time) string {
	seg := func(v any) string {
		b, _ := json.Marshal(v) // fixed types
		return base64.RawURLEncoding.EncodeToString(b)
	}
	head := seg(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." + seg(map[string]any{"sub": "eventwatch", "exp": exp.Unix()})
	return head + "." + base64.RawURLEncoding.EncodeToString(s.sign(head))
}

func (s *wsSim) sign(head string) []byte {
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte(head))
	return mac.Sum(nil)
}

// valid checks a Bearer JWT: HS256 header, signature, expiry.
func (s *wsSim) valid(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return false
	}
	var head struct{ Alg string }
	var claims struct{ Exp int64 }
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if errors.Join(err1, err2, err3) != nil || json.Unmarshal(hb, &head) != nil || json.Unmarshal(cb, &claims) != nil {
		return false
	}
	return head.Alg == "HS256" && hmac.Equal(sig, s.sign(parts[0]+"."+parts[1])) && time.Now().Unix() < claims.Exp
}

func (s *wsSim) compliant(w http.ResponseWriter, r *http.Request) {
	if !s.valid(r) {
		http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
		return
	}
	s.serve(w, r, s.beatOK, func(g *ids) any {
		return awNew(g, "content.book.published", WSServiceCompliant,
			map[string]string{"book_id": g.uuid(), "title": "A live update", "author_id": g.uuid()})
	})
}

func (s *wsSim) faulty(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, s.beatLate, func(g *ids) any {
		return awNew(g, "PresenceChanged", WSServiceFaulty, map[string]string{"user_id": g.uuid(), "status": "online"})
	})
}

// serve upgrades and pushes an event every wsEventEvery and a ping every
// beat until the client goes.
func (s *wsSim) serve(w http.ResponseWriter, r *http.Request, beat time.Duration, event func(*ids) any) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer func() { _ = c.CloseNow() }()
	ctx := c.CloseRead(r.Context())
	g := newIDs(s.seed, 1000+s.conns.Add(1))
	events, pings := time.NewTicker(wsEventEvery), time.NewTicker(beat)
	defer events.Stop()
	defer pings.Stop()
	send := func() bool { return c.Write(ctx, websocket.MessageText, mustJSON(event(g))) == nil }
	for ok := send(); ok; {
		select {
		case <-ctx.Done():
			return
		case <-events.C:
			ok = send()
		case <-pings.C:
			go func() {
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				_ = c.Ping(pctx)
			}()
		}
	}
}
