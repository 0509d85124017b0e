package main

import (
	"github.com/eventwatch/eventwatch/internal/check"

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/policy"
)

// checkFlags are the flags of `eventwatch check`.
type checkFlags struct {
	profile string
	policy  string
	catalog string
	format  string
	input   string
}

func parseCheckFlags(args []string, stderr io.Writer) (checkFlags, error) {
	var f checkFlags
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: eventwatch check [--profile huleedu|authorworks | --policy FILE] [--catalog DIR|FILE] [--format text|json] [FILE|-]")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.profile, "profile", "", "built-in profile: huleedu or authorworks (default huleedu)")
	fs.StringVar(&f.policy, "policy", "", "custom YAML policy file, instead of --profile")
	fs.StringVar(&f.catalog, "catalog", "", "event catalog: a directory of entries or an AsyncAPI 2.6/3.0 document (enables the catalog.* rules)")
	fs.StringVar(&f.format, "format", "text", "output format: text or json")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	switch {
	case f.profile != "" && f.policy != "":
		return f, errors.New("--profile and --policy are mutually exclusive")
	case f.format != "text" && f.format != "json":
		return f, fmt.Errorf("--format must be text or json, not %q", f.format)
	case fs.NArg() > 1:
		return f, errors.New("at most one input file")
	}
	f.input = fs.Arg(0)
	return f, nil
}

// cmdCheck audits NDJSON events offline: exit 0 when no record breaks an
// error-severity rule, 1 when one does, 2 on usage or input errors.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseCheckFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch check: %v\n", err)
		return 2
	}
	engine, err := checkEngine(f)
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch check: %v\n", err)
		return 2
	}
	in, closeIn, err := openInput(f.input)
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch check: %v\n", err)
		return 2
	}
	defer closeIn()
	sum, err := check.Run(ctx, engine, in, stdout, f.format)
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch check: %v\n", err)
		return 2
	}
	if sum.Failed() {
		return 1
	}
	return 0
}

func checkEngine(f checkFlags) (*audit.Engine, error) {
	name := f.profile
	if name == "" {
		name = "huleedu"
	}
	p, err := policy.Load(name, f.policy)
	if err != nil {
		return nil, err
	}
	opts := audit.Options{Profile: p}
	if f.catalog != "" {
		if opts.Catalog, err = catalog.Load(f.catalog); err != nil {
			return nil, err
		}
	}
	return audit.NewEngine(opts)
}

func openInput(name string) (io.Reader, func(), error) {
	if name == "" || name == "-" {
		return os.Stdin, func() {}, nil
	}
	fh, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("open input: %w", err)
	}
	return fh, func() { _ = fh.Close() }, nil
}
