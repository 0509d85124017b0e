package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// remoteCmd is a catalog subcommand that asks a running instance
// (discover, diff, versions, impact): its flag set with the remote flags
// registered, and how it reports usage errors and failures.
type remoteCmd struct {
	sub    string
	fs     *flag.FlagSet
	rf     remoteFlags
	stderr io.Writer
}

func newRemoteCmd(sub string, stderr io.Writer) *remoteCmd {
	c := &remoteCmd{sub: sub, fs: flag.NewFlagSet("catalog "+sub, flag.ContinueOnError), stderr: stderr}
	c.fs.SetOutput(stderr)
	c.rf.register(c.fs)
	return c
}

// parse parses args and checks them: no positional argument, then each
// check in order (the subcommand's own flags), then the remote flags. When
// the command must stop it returns the exit code and false.
func (c *remoteCmd) parse(args []string, checks ...func() error) (int, bool) {
	if err := c.fs.Parse(args); err != nil {
		return exitCode(!errors.Is(err, flag.ErrHelp)), false
	}
	if c.fs.NArg() > 0 {
		return c.usage(fmt.Errorf("unexpected argument %q", c.fs.Arg(0))), false
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return c.usage(err), false
		}
	}
	if err := c.rf.validate(); err != nil {
		return c.usage(err), false
	}
	return 0, true
}

// usage reports a usage or input error: exit 2.
func (c *remoteCmd) usage(err error) int { return catalogUsage(c.stderr, c.sub, err) }

// failure reports err from reaching the instance (remoteFailure).
func (c *remoteCmd) failure(err error) int { return remoteFailure(c.stderr, c.sub, err) }

// formatFlag registers --format (default def) and returns its value and
// the check that it is one of allowed.
func (c *remoteCmd) formatFlag(def, help string, allowed ...string) (*string, func() error) {
	format := c.fs.String("format", def, help)
	return format, func() error {
		if !slices.Contains(allowed, *format) {
			return fmt.Errorf("--format must be %s, not %q", strings.Join(allowed, " or "), *format)
		}
		return nil
	}
}
