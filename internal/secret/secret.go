// Package secret resolves secret configuration values (passwords, tokens,
// DSNs) without putting them in the configuration file.
//
// A secret field has two forms in YAML:
//
//	password: ${KAFKA_PASSWORD}     # the whole value is one ${NAME}: read from the environment
//	password_file: /run/secrets/pw  # read from a file; trailing newlines are trimmed
//
// Any other inline value is used as written. Setting both the inline value
// and the file is an error, as is a ${NAME} whose variable is unset or a
// file that cannot be read: a secret never silently resolves to "".
package secret

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

var envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// Resolve returns the secret given inline (possibly "${NAME}") or in file.
// field names the inline key in error messages, e.g. "kafka.sasl.password".
func Resolve(field, inline, file string) (string, error) {
	switch {
	case inline != "" && file != "":
		return "", fmt.Errorf("%s: set either %s or %s_file, not both", field, lastKey(field), lastKey(field))
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s_file: read secret: %w", field, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if m := envRef.FindStringSubmatch(inline); m != nil {
		v, ok := os.LookupEnv(m[1])
		if !ok {
			return "", fmt.Errorf("%s: environment variable %s is not set", field, m[1])
		}
		return v, nil
	}
	return inline, nil
}

// Redact returns "<redacted>" for a non-empty secret and "" otherwise, for
// logging a configuration without leaking it.
func Redact(s string) string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

func lastKey(field string) string {
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		return field[i+1:]
	}
	return field
}
