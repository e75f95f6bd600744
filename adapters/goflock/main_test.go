package main

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeLock answers as it is told and records what it was asked.
type fakeLock struct {
	ok      bool
	err     error
	waits   []time.Duration
	unlocks int
	closes  int
}

func (f *fakeLock) lock(wait time.Duration) (bool, error) {
	f.waits = append(f.waits, wait)
	return f.ok, f.err
}

func (f *fakeLock) unlock() error { f.unlocks++; return f.err }
func (f *fakeLock) close()        { f.closes++ }

func TestAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, request string
		lock          fakeLock
		want          string
		waits         []time.Duration
		unlocks       int
	}{
		{"lock granted", "lock 250", fakeLock{ok: true}, "ok", []time.Duration{250 * time.Millisecond}, 0},
		{"try refused", "lock 0", fakeLock{}, "timeout", []time.Duration{0}, 0},
		{"lock failed", "lock 5", fakeLock{err: errors.New("disk\non fire")}, "error disk on fire", []time.Duration{5 * time.Millisecond}, 0},
		{"longest wait", "lock 99999999999999999", fakeLock{}, "timeout", []time.Duration{math.MaxInt64 / time.Millisecond * time.Millisecond}, 0},
		{"unlock", "unlock", fakeLock{}, "ok", nil, 1},
		{"unlock failed", "unlock", fakeLock{err: errors.New("gone")}, "error gone", nil, 1},
		{"no wait", "lock", fakeLock{}, `error bad wait "": want milliseconds, 0 or more`, nil, 0},
		{"negative wait", "lock -1", fakeLock{}, `error bad wait "-1": want milliseconds, 0 or more`, nil, 0},
		{"wait not a number", "lock soon", fakeLock{}, `error bad wait "soon": want milliseconds, 0 or more`, nil, 0},
		{"unknown", "release", fakeLock{}, `error unknown request "release"`, nil, 0},
		{"empty", "", fakeLock{}, `error unknown request ""`, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.lock
			if got := answer(&l, tc.request); got != tc.want {
				t.Errorf("answer(%q) = %q, want %q", tc.request, got, tc.want)
			}
			if !slices.Equal(l.waits, tc.waits) {
				t.Errorf("lock called with waits %v, want %v", l.waits, tc.waits)
			}
			if l.unlocks != tc.unlocks {
				t.Errorf("unlock called %d times, want %d", l.unlocks, tc.unlocks)
			}
		})
	}
}

// serve says ready first, answers each request on a line of its own, and
// at the end of its input releases the lock and returns.
func TestServe(t *testing.T) {
	var out strings.Builder
	l := &fakeLock{ok: true}
	if err := serve(l, "fake 1.0", strings.NewReader("lock 10\nunlock\nlock 0\n"), &out); err != nil {
		t.Fatal(err)
	}
	if want := "ready fake 1.0\nok\nok\nok\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	if l.closes != 1 {
		t.Errorf("the lock was closed %d times at the end of input, want 1", l.closes)
	}
}

func TestUnknownLock(t *testing.T) {
	if _, _, err := newPeer("dotlock", "x.lock"); err == nil || !strings.Contains(err.Error(), `unknown lock "dotlock"`) {
		t.Errorf("newPeer(dotlock) = %v, want an error naming it", err)
	}
}
