package filelock

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// incrementLoop increments the decimal counter in the file counter rounds
// times, each time under l. A lost increment means the lock did not exclude.
func incrementLoop(l *Lock, counter string, rounds int) error {
	for range rounds {
		if err := l.Lock(); err != nil {
			return err
		}
		err := increment(counter)
		if uerr := l.Unlock(); err == nil {
			err = uerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func increment(counter string) error {
	_, err := incrementTo(counter)
	return err
}

// incrementTo adds 1 to the counter file and returns its new value.
func incrementTo(counter string) (int, error) {
	data, err := os.ReadFile(counter)
	if err != nil && !os.IsNotExist(err) {
		return 0, err
	}
	n := 0
	if s := strings.TrimSpace(string(data)); s != "" {
		if n, err = strconv.Atoi(s); err != nil {
			return 0, fmt.Errorf("counter %q: %w", s, err)
		}
	}
	// Write in place, not atomically, so that a second writer would
	// interleave and lose updates.
	return n + 1, os.WriteFile(counter, []byte(strconv.Itoa(n+1)+"\n"), 0o644)
}

func readCounter(t testing.TB, counter string) int {
	t.Helper()
	data, err := os.ReadFile(counter)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writeFile(path, data string) error { return os.WriteFile(path, []byte(data), 0o644) }
