package main

import (
	"context"
	"io"
)

func cmdDemo(_ context.Context, _ []string, _, stderr io.Writer) int {
	return notYet("demo", stderr)
}
