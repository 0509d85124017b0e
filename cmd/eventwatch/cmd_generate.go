package main

import (
	"context"
	"io"
)

func cmdGenerate(_ context.Context, _ []string, _, stderr io.Writer) int {
	return notYet("generate", stderr)
}
