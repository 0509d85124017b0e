package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/daemon"
)

// cmdRun is `eventwatch run --config FILE [--config.check] [--http-addr ADDR]`.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eventwatch run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "configuration file (YAML; see docs/reference-config.yaml)")
	check := fs.Bool("config.check", false, "validate the configuration file (and the files it names) and exit: 0 valid, 1 invalid")
	addr := fs.String("http-addr", "", "HTTP listen address, overriding http.addr (default "+config.DefaultHTTPAddr+")")
	if err := fs.Parse(args); err != nil {
		return exitCode(!errors.Is(err, flag.ErrHelp))
	}
	if *file == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: eventwatch run --config FILE [--config.check] [--http-addr ADDR]")
		return 2
	}
	cfg, err := config.Load(*file)
	if err == nil && *check {
		err = daemon.Check(cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch run: invalid configuration: %v\n", err)
		return 1
	}
	for _, note := range cfg.Deprecations {
		fmt.Fprintf(stderr, "eventwatch run: warning: %s\n", note)
	}
	if *check {
		fmt.Fprintf(stdout, "%s: configuration is valid\n", *file)
		return 0
	}
	reload := make(chan struct{}, 1)
	stop := forwardSignal(syscall.SIGHUP, reload)
	defer stop()
	err = daemon.Run(ctx, cfg, daemon.Options{ConfigPath: *file, HTTPAddr: *addr, Version: readBuildInfo().version, Reload: reload})
	if err != nil {
		fmt.Fprintf(stderr, "eventwatch run: %v\n", err)
		return 1
	}
	return 0
}

// forwardSignal turns each sig into a value on out (dropped while one is
// pending) until the returned stop is called.
func forwardSignal(sig os.Signal, out chan<- struct{}) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sig)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-ch:
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}
