package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version overrides the module version when set at build time with
// -ldflags "-X main.version=...".
var version = ""

// buildInfo is what `eventwatch version` prints: the module version, the VCS
// revision and time the binary was built from, and the Go version.
type buildInfo struct {
	version  string // module version, e.g. v1.2.3, or (devel) for a local build
	revision string // VCS commit, with "+dirty" when the work tree was modified
	time     string // commit time (RFC 3339), when known
	goVer    string
}

// readBuildInfo reads the build information the Go toolchain embeds
// (debug.ReadBuildInfo); fields it does not know stay "unknown".
func readBuildInfo() buildInfo {
	bi := buildInfo{version: "unknown", revision: "unknown", goVer: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if ok {
		if v := info.Main.Version; v != "" {
			bi.version = v
		}
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
		if dirty && bi.revision != "unknown" {
			bi.revision += "+dirty"
		}
	}
	if version != "" {
		bi.version = version
	}
	return bi
}

// String renders the build information on one line.
func (b buildInfo) String() string {
	s := fmt.Sprintf("eventwatch %s commit %s", b.version, b.revision)
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
