//go:build !unix

package fuzz

import (
	"errors"

	"github.com/lockstress/lockstress/filelock"
)

// holdFile is not available here; callers hold the lock with a handle.
func holdFile(filelock.Strategy, string, []byte) (func() error, error) {
	return nil, errors.ErrUnsupported
}

// mkfifo does nothing where the filesystem has no named pipes.
func mkfifo(string) error { return nil }
