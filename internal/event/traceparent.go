package event

import "encoding/hex"

// Traceparent is a record's W3C traceparent header as the engine parsed it,
// once per record (Result.Traceparent), so that sinks (trace stitching)
// never parse it again.
type Traceparent struct {
	Valid   bool     // the header was present and valid W3C Trace Context
	Version byte     // format version; 0 today
	TraceID [16]byte // trace id, never all zeros when Valid
	SpanID  [8]byte  // parent (publishing) span id, never all zeros when Valid
	Flags   byte     // trace flags; bit 0 is sampled
}

// Sampled reports the sampled flag (trace-flags bit 0).
func (t Traceparent) Sampled() bool { return t.Flags&1 == 1 }

// ParseTraceparent parses a W3C Trace Context traceparent header
// ("00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>",
// https://www.w3.org/TR/trace-context/#traceparent-header). Version ff,
// all-zero ids, upper-case hex and a wrong length are invalid; future
// versions may append fields after a dash, as the specification allows.
// The result's Valid says whether v was accepted.
func ParseTraceparent(v []byte) Traceparent {
	if len(v) < 55 || (len(v) > 55 && v[55] != '-') {
		return Traceparent{}
	}
	if v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return Traceparent{}
	}
	if !lowerHex(v[0:2]) || !lowerHex(v[3:35]) || !lowerHex(v[36:52]) || !lowerHex(v[53:55]) {
		return Traceparent{}
	}
	if string(v[0:2]) == "ff" || (string(v[0:2]) == "00" && len(v) != 55) {
		return Traceparent{}
	}
	if allZero(v[3:35]) || allZero(v[36:52]) {
		return Traceparent{}
	}
	t := Traceparent{Valid: true}
	var b [1]byte
	_, _ = hex.Decode(b[:], v[0:2])
	t.Version = b[0]
	_, _ = hex.Decode(t.TraceID[:], v[3:35])
	_, _ = hex.Decode(t.SpanID[:], v[36:52])
	_, _ = hex.Decode(b[:], v[53:55])
	t.Flags = b[0]
	return t
}

// parseTraceparent is ParseTraceparent with the ids as hex text.
func parseTraceparent(v []byte) (traceID, spanID string, ok bool) {
	t := ParseTraceparent(v)
	if !t.Valid {
		return "", "", false
	}
	return string(v[3:35]), string(v[36:52]), true
}

func lowerHex(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != '0' {
			return false
		}
	}
	return true
}
