package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/eventwatch/eventwatch/internal/catalog"
)

// cmdCatalogDiff compares a declared catalog with the estate a running
// instance observed: exit 0 when they agree, 1 on any difference (or when
// the instance could not answer), 2 on usage or input errors (a catalog
// that does not load).
func cmdCatalogDiff(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var rf remoteFlags
	var path, format string
	fs := flag.NewFlagSet("catalog diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf.register(fs)
	fs.StringVar(&path, "catalog", "", "declared catalog: a directory of entries or an AsyncAPI 2.6/3.0 document (required)")
	fs.StringVar(&format, "format", "text", "output format: text or json")
	if err := fs.Parse(args); err != nil {
		return exitCode(!errors.Is(err, flag.ErrHelp))
	}
	switch {
	case fs.NArg() > 0:
		return catalogUsage(stderr, "diff", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	case path == "":
		return catalogUsage(stderr, "diff", errors.New("--catalog is required"))
	case format != "text" && format != "json":
		return catalogUsage(stderr, "diff", fmt.Errorf("--format must be text or json, not %q", format))
	}
	if err := rf.validate(); err != nil {
		return catalogUsage(stderr, "diff", err)
	}
	declared, err := catalog.Load(path)
	if err != nil {
		return catalogUsage(stderr, "diff", err)
	}
	body, err := rf.fetchAsyncAPI(ctx, "json")
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch catalog diff: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	seen, err := catalog.SeenEntries(body)
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch catalog diff: the discovered document: %v\n", err)
		return 1
	}
	diffs := catalog.Diff(declared.Entries(), seen)
	if err := printDiffs(stdout, format, diffs); err != nil {
		fmt.Fprintf(stderr, "eventwatch catalog diff: %v\n", err)
		return 1
	}
	if len(diffs) > 0 {
		return 1
	}
	return 0
}

func printDiffs(w io.Writer, format string, diffs []catalog.Difference) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if diffs == nil {
			diffs = []catalog.Difference{}
		}
		return enc.Encode(map[string]any{"differences": diffs, "count": len(diffs)})
	}
	for _, d := range diffs {
		if _, err := fmt.Fprintf(w, "%-24s %s\n", d.Kind, d.Message); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%d difference(s)\n", len(diffs))
	return err
}
