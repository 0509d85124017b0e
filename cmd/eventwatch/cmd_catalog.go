package main

import (
	"context"
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
	c := newRemoteCmd("discover", stderr)
	out := c.fs.String("out", "", "write the document to FILE instead of stdout")
	format, formatOK := c.formatFlag("", "yaml or json (default: json for an --out ending in .json, else yaml)", "yaml", "json")
	byExt := func() error {
		if *format == "" {
			*format = "yaml"
			if strings.EqualFold(filepath.Ext(*out), ".json") {
				*format = "json"
			}
		}
		return nil
	}
	if code, ok := c.parse(args, byExt, formatOK); !ok {
		return code
	}
	body, err := c.rf.fetchAsyncAPI(ctx, *format)
	if err == nil {
		err = writeOut(*out, body, stdout)
	}
	if err != nil {
		return c.failure(err)
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
