package websocket

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// Invalid-token variants the prober presents; each must be refused.
const (
	VariantMalformed = "malformed" // not a JWT at all
	VariantTampered  = "tampered"  // the real token with its signature altered
	VariantAlgNone   = "alg_none"  // the real claims, header alg "none", no signature
	VariantExpired   = "expired"   // expired_token when configured, else the real token re-dated into the past (signature no longer matches)
)

// malformedToken is what the malformed variant sends.
const malformedToken = "eventwatch-probe.not-a-jwt"

// variant is one invalid token and how it was made.
type variant struct {
	Name  string // one of the Variant constants
	Token string
	Note  string // how it was made, for people
}

// invalidTokens returns the invalid tokens derived from token (a JWT in
// compact form) and the optional genuinely expired one. A token that is not
// a three-part JWT yields only the malformed variant (and expired, when
// given).
func invalidTokens(token, expired string, now time.Time) []variant {
	out := []variant{{Name: VariantMalformed, Token: malformedToken, Note: "not a JWT"}}
	parts := strings.Split(token, ".")
	jwt := len(parts) == 3 && decodes(parts[0]) && decodes(parts[1])
	if jwt {
		out = append(out,
			variant{Name: VariantTampered, Token: parts[0] + "." + parts[1] + "." + tamper(parts[2]), Note: "signature altered"},
			variant{Name: VariantAlgNone, Token: b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + ".", Note: "alg none, no signature"})
	}
	switch {
	case expired != "":
		out = append(out, variant{Name: VariantExpired, Token: expired, Note: "the configured expired token"})
	case jwt:
		if c, ok := redate(parts[1], now); ok {
			out = append(out, variant{Name: VariantExpired, Token: parts[0] + "." + c + "." + parts[2],
				Note: "claims re-dated an hour into the past, original signature"})
		}
	}
	return out
}

func decodes(seg string) bool {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	return err == nil && json.Valid(b)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// tamper changes one character in the middle of a base64url signature (an
// empty one becomes "AAAA").
func tamper(sig string) string {
	if sig == "" {
		return "AAAA"
	}
	b := []byte(sig)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// redate returns the claims segment with exp an hour before now (and iat,
// nbf two hours before), or false when it is not a JSON object.
func redate(seg string, now time.Time) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return "", false
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&claims) != nil || claims == nil {
		return "", false
	}
	claims["exp"] = now.Add(-time.Hour).Unix()
	claims["iat"] = now.Add(-2 * time.Hour).Unix()
	if _, ok := claims["nbf"]; ok {
		claims["nbf"] = now.Add(-2 * time.Hour).Unix()
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return "", false
	}
	return base64.RawURLEncoding.EncodeToString(b), true
}

// redactor removes secrets from every text the prober keeps or logs:
// errors (an HTTP client error names the URL, query and all), close
// reasons and violation messages (a server may echo what it was sent).
type redactor struct{ secrets []string }

// Redacted replaces the secrets.
const Redacted = "<redacted>"

func newRedactor(tokens ...string) *redactor {
	r := &redactor{}
	for _, t := range tokens {
		if len(t) < 4 || t == malformedToken {
			continue
		}
		r.secrets = append(r.secrets, t)
		if q := url.QueryEscape(t); q != t {
			r.secrets = append(r.secrets, q)
		}
		// each segment of a JWT on its own identifies it too (the claims
		// segment is the same in every variant)
		for _, seg := range strings.Split(t, ".") {
			if len(seg) >= 16 {
				r.secrets = append(r.secrets, seg)
			}
		}
	}
	return r
}

// clean returns s without any secret.
func (r *redactor) clean(s string) string {
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}
