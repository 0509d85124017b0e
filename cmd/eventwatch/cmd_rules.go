package main

import (
	"context"
	"io"
)

func cmdRules(_ context.Context, _ []string, _, stderr io.Writer) int {
	return notYet("rules", stderr)
}
