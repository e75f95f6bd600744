package filelock

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestUnsupportedMatchesStandard checks that an unsupported strategy is
// refused by New with an *fs.PathError matching both ErrUnsupported and
// errors.ErrUnsupported, and that a supported one is accepted.
func TestUnsupportedMatchesStandard(t *testing.T) {
	require.ErrorIs(t, ErrUnsupported, errors.ErrUnsupported)
	path := filepath.Join(t.TempDir(), "x.lock")
	for _, s := range []Strategy{Soft, OS, OFD, Link} {
		t.Run(s.String(), func(t *testing.T) {
			l, err := New(path, WithStrategy(s))
			if slices.Contains(Strategies(), s) {
				require.NoError(t, err)
				require.NotNil(t, l)
				return
			}
			require.Nil(t, l)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, path, pe.Path)
			require.ErrorIs(t, err, ErrUnsupported)
			require.ErrorIs(t, err, errors.ErrUnsupported)
		})
	}
}

// requireLockPathError checks that err is a *fs.PathError naming path and
// matching target.
func requireLockPathError(t *testing.T, err error, path string, target error) {
	t.Helper()
	require.ErrorIs(t, err, target)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, path, pe.Path)
}

// A fair handle whose ticket cannot be removed (another user made the
// queue directory and took our right to write in it) still returns an
// *fs.PathError for the lock path, matching both what ended the operation
// and the removal's cause.
func TestFairQueueFailureIsAPathError(t *testing.T) {
	denied := func(name string) error {
		if filepath.Base(filepath.Dir(name)) == "x.lock.queue" && filepath.Base(name) != turnName {
			return &fs.PathError{Op: "remove", Path: name, Err: syscall.EACCES}
		}
		return nil
	}
	for _, tc := range []struct {
		name string
		op   func(t *testing.T, l *Lock, path string) error
		want error
	}{
		{"unlock", func(t *testing.T, l *Lock, _ string) error {
			require.NoError(t, lockWithin(l))
			return l.Unlock()
		}, fs.ErrPermission},
		{"timed-out wait", func(t *testing.T, l *Lock, path string) error {
			holder := newLock(t, path)
			require.NoError(t, holder.TryLock())
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			return l.LockContext(ctx)
		}, ErrTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			ffs := &faultFS{}
			l := newLock(t, path, WithFair(), withFS(ffs))
			ffs.remove = denied
			defer func() { ffs.remove = nil }()
			err := tc.op(t, l, path)
			pe, ok := err.(*fs.PathError)
			require.True(t, ok, "%T %v, want an *fs.PathError", err, err)
			require.Equal(t, path, pe.Path)
			require.ErrorIs(t, err, tc.want)
			require.ErrorIs(t, err, fs.ErrPermission, "the removal's cause")
		})
	}
}
