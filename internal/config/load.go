package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
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

// decodeStrict checks the document against out's type (unknown keys, wrong
// kinds and unparsable scalars, each reported with its key path), then
// decodes it over out with yaml.v3's own strict mode as a second guard.
func decodeStrict(data []byte, out any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("parse yaml: %w", err)
	}
	if doc.Kind == 0 {
		return nil // empty file
	}
	if err := checkNode(&doc, typeOf(out), ""); err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("decode yaml: %w", err)
	}
	return nil
}
