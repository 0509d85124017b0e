package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/eventwatch/eventwatch/internal/catalog"
)

// cmdCatalogDiff compares a declared catalog with the estate a running
// instance observed: exit 0 when they agree, 1 on any difference (or when
// the instance could not answer), 2 on usage or input errors (a catalog
// that does not load).
func cmdCatalogDiff(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newRemoteCmd("diff", stderr)
	path := c.fs.String("catalog", "", "declared catalog: a directory of entries or an AsyncAPI 2.6/3.0 document (required)")
	format, formatOK := c.formatFlag("text", "output format: text or json", "text", "json")
	required := func() error {
		if *path == "" {
			return errors.New("--catalog is required")
		}
		return nil
	}
	if code, ok := c.parse(args, required, formatOK); !ok {
		return code
	}
	declared, err := catalog.Load(*path)
	if err != nil {
		return c.usage(err)
	}
	body, err := c.rf.fetchAsyncAPI(ctx, "json")
	if err != nil {
		return c.failure(err)
	}
	seen, err := catalog.SeenEntries(body)
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch catalog diff: the discovered document: %v\n", err)
		return 1
	}
	diffs := catalog.Diff(declared.Entries(), seen)
	if err := printDiffs(stdout, *format, diffs); err != nil {
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
