package main

import (
	"context"
	"io"
)

func cmdReport(_ context.Context, _ []string, _, stderr io.Writer) int {
	return notYet("report", stderr)
}
