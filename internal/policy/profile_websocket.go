package policy

import (
	"regexp"
	"strings"
	"time"
)

// WebSocketPolicy is the part of a profile the WebSocket prober checks
// (the `websocket:` key of a policy). A zero field is not checked.
type WebSocketPolicy struct {
	Endpoint           string        `yaml:"endpoint"`            // path pattern, {service} standing for the target's service, e.g. /v1/{service}/ws
	HeartbeatInterval  time.Duration `yaml:"heartbeat_interval"`  // how often the server must send a heartbeat (0 = unchecked)
	HeartbeatTolerance time.Duration `yaml:"heartbeat_tolerance"` // slack on top of the interval before a gap is late

	endpoint *regexp.Regexp // Endpoint compiled; nil when unchecked
}

// EndpointRegexp returns the compiled endpoint pattern ({service} becomes
// a named group "service" matching one path segment), or nil when the
// profile does not check endpoints.
func (w *WebSocketPolicy) EndpointRegexp() *regexp.Regexp { return w.endpoint }

// MatchEndpoint reports whether path matches the endpoint pattern with every
// {service} segment equal to service. It returns true when the profile sets
// no pattern.
func (w *WebSocketPolicy) MatchEndpoint(path, service string) bool {
	if w.endpoint == nil {
		return true
	}
	m := w.endpoint.FindStringSubmatch(path)
	if m == nil {
		return false
	}
	for i, name := range w.endpoint.SubexpNames() {
		if name == "service" && m[i] != service {
			return false
		}
	}
	return true
}

// compileEndpoint turns "/v1/{service}/ws" into ^/v1/(?P<service>[^/]+)/ws$.
func compileEndpoint(pattern string) (*regexp.Regexp, error) {
	parts := strings.Split(pattern, "{service}")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	expr := "^" + strings.Join(parts, `(?P<service>[^/]+)`) + "$"
	return regexp.Compile(expr)
}

func compileWebSocket(doc *policyDoc, p *Profile) error {
	w := doc.WebSocket
	if w.Endpoint != "" {
		if !strings.HasPrefix(w.Endpoint, "/") {
			return ferr("websocket.endpoint", "must be a path starting with / (got %q)", w.Endpoint)
		}
		if strings.ContainsAny(strings.ReplaceAll(w.Endpoint, "{service}", ""), "{}?#") {
			return ferr("websocket.endpoint", "only the placeholder {service} is allowed, and no query or fragment (got %q)", w.Endpoint)
		}
		re, err := compileEndpoint(w.Endpoint)
		if err != nil {
			return ferr("websocket.endpoint", "%v", err)
		}
		w.endpoint = re
	}
	switch {
	case w.HeartbeatInterval < 0:
		return ferr("websocket.heartbeat_interval", "must be >= 0")
	case w.HeartbeatTolerance < 0:
		return ferr("websocket.heartbeat_tolerance", "must be >= 0")
	case w.HeartbeatInterval == 0 && w.HeartbeatTolerance > 0:
		return ferr("websocket.heartbeat_tolerance", "needs heartbeat_interval")
	}
	p.WebSocket = w
	return nil
}
