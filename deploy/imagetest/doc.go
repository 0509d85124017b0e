// Package imagetest checks deploy/Dockerfile without Docker (our machines
// have none).
//
// In `make test` (fast, no build): the Dockerfile's build stage is parsed
// and every package of this module that the binary links lies under a
// folder the stage copies.
//
// In `make e2e` (build tag e2e, it compiles the whole binary):
// TestDockerfileBuildsStaticBinary builds from exactly the files the
// Dockerfile copies into its build stage, with the Dockerfile's own go
// build command line, and checks that the result is what the
// distroless/static runtime stage needs — a statically linked ELF with no
// interpreter — and that the version passed as a build argument reaches
// `eventwatch version`.
//
// What it cannot check: that the base images exist and that BuildKit
// accepts the file; `make image` on a machine with Docker does that.
package imagetest
