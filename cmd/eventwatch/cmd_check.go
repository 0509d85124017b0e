package main

import (
	"context"
	"io"
)

func cmdCheck(_ context.Context, _ []string, _, stderr io.Writer) int {
	return notYet("check", stderr)
}
