package main

import (
	"context"
	"io"
)

func cmdRun(_ context.Context, _ []string, _, stderr io.Writer) int {
	return notYet("run", stderr)
}
