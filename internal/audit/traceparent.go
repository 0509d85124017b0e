package audit

// parseTraceparent parses a W3C Trace Context traceparent header
// ("00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>") and returns the
// trace id and parent span id. Version ff, all-zero ids, upper-case hex and
// a wrong length are invalid; future versions may append fields after a
// dash, as the specification allows.
func parseTraceparent(v []byte) (traceID, spanID string, ok bool) {
	if len(v) < 55 || (len(v) > 55 && v[55] != '-') {
		return "", "", false
	}
	if v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return "", "", false
	}
	if !lowerHex(v[0:2]) || !lowerHex(v[3:35]) || !lowerHex(v[36:52]) || !lowerHex(v[53:55]) {
		return "", "", false
	}
	if string(v[0:2]) == "ff" || (string(v[0:2]) == "00" && len(v) != 55) {
		return "", "", false
	}
	if allZero(v[3:35]) || allZero(v[36:52]) {
		return "", "", false
	}
	return string(v[3:35]), string(v[36:52]), true
}

func lowerHex(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) && (c < 'a' || c > 'f') {
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
