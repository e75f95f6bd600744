package filelock

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"

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
