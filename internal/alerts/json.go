package alerts

import (
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"
)

// RenderJSON returns the rule file of o as indented JSON (the same
// document as Render, keys sorted). The Helm chart reads its rules in this
// form, generated with mixin.Placeholders, so that replacing the selector
// token needs JSON string escaping only, whatever YAML quoting style a
// rule would get.
func RenderJSON(o Options) ([]byte, error) {
	text, err := Render(o)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, fmt.Errorf("decode rendered rules: %w", err)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode rules as JSON: %w", err)
	}
	return append(out, '\n'), nil
}
