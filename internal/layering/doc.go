// Package layering holds the test that keeps eventwatch's imports running
// one way: the floor packages import nothing of eventwatch's own, the
// policy language only the record vocabulary, and the engine only those
// (docs/development.md, "Where each concept lives"). It has no code.
package layering
