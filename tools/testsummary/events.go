package main

import (
	"encoding/json"
	"strings"
)

// An event is one line of `go test -json` (cmd/test2json), plus the
// build events that go test adds to the stream.
type event struct {
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string
}

// parseEvent decodes one line of the stream. ok is false for a line that
// is not a test2json event (the go command's own messages can be mixed in).
func parseEvent(line []byte) (e event, ok bool) {
	if len(line) == 0 || line[0] != '{' {
		return event{}, false
	}
	if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
		return event{}, false
	}
	return e, true
}

// isFraming reports whether an output line is one of the markers that the
// verbose test output frames tests with, and that plain `go test` does
// not show.
func isFraming(line string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// isTopLevel reports whether a test name names a top-level test, not a
// subtest.
func isTopLevel(name string) bool { return !strings.Contains(name, "/") }
