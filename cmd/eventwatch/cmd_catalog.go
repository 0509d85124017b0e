package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// cmdCatalog dispatches `eventwatch catalog discover|diff|versions|impact`.
func cmdCatalog(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: eventwatch catalog discover --url URL [--out FILE] [--format yaml|json]\n"+
			"       eventwatch catalog diff --catalog DIR|FILE --url URL [--format text|json]\n"+
			"       eventwatch catalog versions --url URL [--type T] [--format text|json]\n"+
			"       eventwatch catalog impact --url URL --type T --version V --schema FILE [--days N] [--format text|json]")
		return exitCode(len(args) == 0)
	}
	switch args[0] {
	case "discover":
		return cmdCatalogDiscover(ctx, args[1:], stdout, stderr)
	case "diff":
		return cmdCatalogDiff(ctx, args[1:], stdout, stderr)
	case "versions":
		return cmdCatalogVersions(ctx, args[1:], stdout, stderr)
	case "impact":
		return cmdCatalogImpact(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "eventwatch catalog: unknown subcommand %q (discover, diff, versions or impact)\n", args[0])
	return 2
}

// remoteFlags are the flags that reach a running instance.
type remoteFlags struct {
	url       string
	tokenFile string
	timeout   time.Duration
}

func (r *remoteFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.url, "url", "http://127.0.0.1:9779", "base URL of a running eventwatch")
	fs.StringVar(&r.tokenFile, "token-file", "", "file holding the bearer token of /api/*")
	fs.DurationVar(&r.timeout, "timeout", 30*time.Second, "HTTP request timeout")
}

func (r *remoteFlags) validate() error {
	if u, err := url.Parse(r.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url must be an http(s) URL, not %q", r.url)
	}
	return nil
}

// fetchAsyncAPI GETs the discovered document in format (yaml or json).
func (r *remoteFlags) fetchAsyncAPI(ctx context.Context, format string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	u := strings.TrimRight(r.url, "/") + "/api/v1/catalog/asyncapi?format=" + url.QueryEscape(format)
	resp, err := apiGet(ctx, r.url, u, r.tokenFile, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read the discovered document: %w", err)
	}
	return body, nil
}

// cmdCatalogDiscover writes the observed estate as AsyncAPI 3.0: exit 0 on
// success, 1 when the instance could not answer, 2 on usage errors.
func cmdCatalogDiscover(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var rf remoteFlags
	var out, format string
	fs := flag.NewFlagSet("catalog discover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf.register(fs)
	fs.StringVar(&out, "out", "", "write the document to FILE instead of stdout")
	fs.StringVar(&format, "format", "", "yaml or json (default: json for an --out ending in .json, else yaml)")
	if err := fs.Parse(args); err != nil {
		return exitCode(!errors.Is(err, flag.ErrHelp))
	}
	if format == "" {
		format = "yaml"
		if strings.EqualFold(filepath.Ext(out), ".json") {
			format = "json"
		}
	}
	switch {
	case fs.NArg() > 0:
		return catalogUsage(stderr, "discover", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	case format != "yaml" && format != "json":
		return catalogUsage(stderr, "discover", fmt.Errorf("--format must be yaml or json, not %q", format))
	}
	if err := rf.validate(); err != nil {
		return catalogUsage(stderr, "discover", err)
	}
	body, err := rf.fetchAsyncAPI(ctx, format)
	if err == nil {
		err = writeOut(out, body, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch catalog discover: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

func catalogUsage(stderr io.Writer, sub string, err error) int {
	fmt.Fprintf(stderr, "eventwatch catalog %s: %v\n", sub, err)
	return 2
}

// writeOut writes body to the file out, or to stdout when out is empty.
func writeOut(out string, body []byte, stdout io.Writer) error {
	if out == "" {
		_, err := stdout.Write(body)
		return err
	}
	if err := os.WriteFile(out, body, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
