package config

import (
	"errors"
	"fmt"
	"os"

	"github.com/eventwatch/eventwatch/internal/strictyaml"
)

// Load reads, checks, decodes and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse is Load on bytes. An empty document is the default configuration.
func Parse(data []byte) (*Config, error) {
	c := Default()
	if err := decodeStrict(data, c); err != nil {
		return nil, err
	}
	if _, err := c.MigrateDeprecated(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeStrict decodes the document over out through the shared strict
// decoder (internal/strictyaml): unknown keys, wrong kinds and unparsable
// scalars are reported with their key path and line. An empty document
// leaves out as it is.
func decodeStrict(data []byte, out any) error {
	if err := strictyaml.Decode(data, out); err != nil && !errors.Is(err, strictyaml.ErrEmpty) {
		return err //nolint:wrapcheck // the *strictyaml.Error text is the message: "path: problem (line N)"
	}
	return nil
}
