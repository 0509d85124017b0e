package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Build stamps set with -ldflags "-X main.version=... -X main.commit=...
// -X main.date=..." (the Makefile and deploy/Dockerfile set them). Each one
// that is set wins over what the Go toolchain embedded; each one that is
// not falls back to the build information (debug.ReadBuildInfo), so a
// `GOFLAGS=-buildvcs=false` build with ldflags and a plain `go build` in a
// git clone both know their version.
var (
	version = "" // release version, e.g. v1.2.3 or the output of git describe
	commit  = "" // VCS revision the binary was built from
	date    = "" // commit or build time, RFC 3339
)

// buildInfo is what `eventwatch version` prints: the version, the VCS
// revision and time the binary was built from, and the Go version.
type buildInfo struct {
	version  string // -X main.version, else the module version (v1.2.3, a pseudo-version or (devel))
	revision string // -X main.commit, else vcs.revision ("+dirty" when modified); empty when unknown
	time     string // -X main.date, else vcs.time (RFC 3339); empty when unknown
	goVer    string
}

// readBuildInfo merges the ldflags stamps with the build information the
// Go toolchain embeds; a field neither knows is "unknown" (version) or
// empty (revision, time).
func readBuildInfo() buildInfo {
	bi := fromDebugInfo()
	bi.version = firstSet(version, bi.version, "unknown")
	bi.revision = firstSet(commit, bi.revision)
	bi.time = firstSet(date, bi.time)
	return bi
}

// fromDebugInfo reads debug.ReadBuildInfo.
func fromDebugInfo() buildInfo {
	bi := buildInfo{goVer: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return bi
	}
	bi.version = info.Main.Version
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			bi.revision = s.Value
		case "vcs.time":
			bi.time = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && bi.revision != "" {
		bi.revision += "+dirty"
	}
	return bi
}

// firstSet returns the first non-empty value.
func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// String renders the build information on one line; an unknown commit or
// time is left out rather than printed as "unknown".
func (b buildInfo) String() string {
	s := "eventwatch " + b.version
	if b.revision != "" {
		s += " commit " + b.revision
	}
	if b.time != "" {
		s += " (" + b.time + ")"
	}
	return s + " " + b.goVer
}

func cmdVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "eventwatch version: takes no arguments, got %q\n", args)
		return 2
	}
	fmt.Fprintln(stdout, readBuildInfo())
	return 0
}
