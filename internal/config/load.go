package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

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
//
// One run reports every problem, one per line, each with its key path and
// YAML line: the keys the strict decoder refuses (unknown, wrong kind,
// unparsable) and, with those left at their defaults, every validation
// error of the rest. A validation error that follows from another one (it
// is about a key already reported, or names one in its message, such as a
// limit checked against a value that is itself wrong) is left out.
func Parse(data []byte) (*Config, error) {
	c := Default()
	root, err := strictyaml.DecodeAll(data, c)
	var decoded *strictyaml.Errors
	switch {
	case errors.Is(err, strictyaml.ErrEmpty):
	case errors.As(err, &decoded):
	case err != nil:
		return nil, err //nolint:wrapcheck // a syntax error: "parse yaml: ..."
	}
	p := problems{root: root, failed: map[string]bool{}}
	if decoded != nil {
		for _, e := range decoded.List {
			p.add(e.Path, e.Error(), e.Line)
		}
	}
	if _, err := c.MigrateDeprecated(); err != nil {
		p.validation(err)
	}
	p.validation(c.Validate())
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// problems collects the messages of one configuration.
type problems struct {
	root   *yaml.Node      // the document, for lines (nil when empty)
	failed map[string]bool // key paths already reported
	list   []problem
}

// problem is one message and the YAML line it is about (0: none).
type problem struct {
	msg  string
	line int
}

func (p *problems) add(path, msg string, line int) {
	p.failed[path] = true
	p.list = append(p.list, problem{msg, line})
}

// validation adds each validation error (errors.Join trees flattened, one
// line each) with the YAML line of its key, unless it is derived.
func (p *problems) validation(err error) {
	for _, e := range leaves(err) {
		for _, msg := range strings.Split(e.Error(), "\n") {
			path, _, ok := strings.Cut(msg, ": ")
			if !ok || strings.ContainsAny(path, " \t") {
				p.list = append(p.list, problem{msg: msg})
				continue
			}
			if p.derived(path, msg) {
				continue
			}
			line := strictyaml.LineOf(p.root, path)
			if line > 0 && !hasLine.MatchString(msg) {
				msg += fmt.Sprintf(" (line %d)", line)
			}
			p.add(path, msg, line)
		}
	}
}

var hasLine = regexp.MustCompile(`\(line \d+\)$`)

// derived reports whether a validation error at path follows from a
// problem already reported: it is at (or under) a reported key, or its
// message names one (by full path, or by a key name with an underscore,
// distinctive enough not to match ordinary words).
func (p *problems) derived(path, msg string) bool {
	rest := msg[len(path):]
	for f := range p.failed {
		if path == f || strings.HasPrefix(path, f+".") || strings.HasPrefix(path, f+"[") || strings.Contains(rest, f) {
			return true
		}
		leaf := f[strings.LastIndexAny(f, ".]")+1:]
		if strings.Contains(leaf, "_") && strings.Contains(rest, leaf) {
			return true
		}
	}
	return false
}

// err is every problem, one per line, in the order of the document
// (problems without a line last).
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	sort.SliceStable(p.list, func(i, j int) bool {
		a, b := p.list[i].line, p.list[j].line
		return a != 0 && (b == 0 || a < b)
	})
	lines := make([]string, len(p.list))
	for i, x := range p.list {
		lines[i] = x.msg
	}
	return errors.New(strings.Join(lines, "\n"))
}

// leaves flattens errors.Join trees (and any Unwrap() []error) into their
// leaf errors.
func leaves(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}
