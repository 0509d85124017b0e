// Command eventwatch watches a Kafka estate against an event-driven
// architecture standard: it audits sampled records, tracks consumer lag and
// dead-letter growth, stitches event hops into traces, exposes Prometheus
// metrics and serves weekly compliance reports.
//
// Each subcommand lives in its own file (cmd_<name>.go).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand: it parses its own args and returns the process
// exit code (0 ok, 1 findings or failure, 2 usage or input error).
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"run":      {"run the daemon: sample, audit, lag, trace, metrics, reports", cmdRun},
		"demo":     {"run the daemon against an embedded Kafka cluster with simulated services", cmdDemo},
		"check":    {"audit NDJSON events offline against a profile or policy", cmdCheck},
		"catalog":  {"discover the estate as AsyncAPI 3.0, or diff a declared catalog against it", cmdCatalog},
		"rules":    {"print the rule catalogue", cmdRules},
		"generate": {"write generated dashboards, alert rules and docs", cmdGenerate},
		"report":   {"print a weekly compliance report from a running instance", cmdReport},
		"tail":     {"follow violations live from a running instance (SSE)", cmdTail},
		"dlq":      {"dead letters by cause, one dead letter, governed replay (list, show, replay)", cmdDLQ},
		"version":  {"print the module version and VCS commit (also --version)", cmdVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return exitCode(len(args) == 0)
	}
	if args[0] == "--version" || args[0] == "-version" {
		return cmdVersion(ctx, args[1:], stdout, stderr)
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "eventwatch: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
}

func exitCode(usageError bool) int {
	if usageError {
		return 2
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: eventwatch <command> [flags]\n\ncommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'eventwatch <command> -h' for the flags of a command.")
}
