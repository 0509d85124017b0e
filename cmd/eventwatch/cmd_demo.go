package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/demo"
)

// cmdDemo is `eventwatch demo [--http-addr ADDR] [--kafka-addr ADDR]
// [--data-dir DIR] [--seed N] [--profile huleedu|authorworks] [--catalog DIR|FILE]`.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eventwatch demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := demo.Options{Version: readBuildInfo().version, Stdout: stdout, LogOutput: stderr}
	fs.StringVar(&o.HTTPAddr, "http-addr", config.DefaultHTTPAddr, "HTTP listen address of the daemon")
	fs.StringVar(&o.KafkaAddr, "kafka-addr", "127.0.0.1:9092", "listen address of the embedded cluster's first broker (the bootstrap address for kcat -b)")
	fs.StringVar(&o.DataDir, "data-dir", "", "directory for the report store (default: a temporary directory removed on exit)")
	fs.Int64Var(&o.Seed, "seed", 1, "seed of the simulated traffic")
	fs.StringVar(&o.Profile, "profile", "huleedu", "default profile (huleedu or authorworks); the other one audits its own topics through an override")
	fs.StringVar(&o.Catalog, "catalog", "", "event catalog (directory or AsyncAPI 2.6/3.0 document) instead of the demo's own, e.g. one `catalog discover` wrote")
	if err := fs.Parse(args); err != nil {
		return exitCode(!errors.Is(err, flag.ErrHelp))
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "eventwatch demo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := demo.Run(ctx, o); err != nil {
		fmt.Fprintf(stderr, "eventwatch demo: %v\n", err)
		return 1
	}
	return 0
}
