package fsys

import (
	"errors"
	"io/fs"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// modeFile is a File of a given mode, with Chmod only if chmod is set.
type modeFile struct {
	File
	mode fs.FileMode
}

func (f *modeFile) Stat() (Info, error) { return Info{Mode: f.mode}, nil }

type chmodFile struct{ *modeFile }

func (f chmodFile) Chmod(mode fs.FileMode) error { f.mode = mode; return nil }

func TestSetPerm(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no permission bits to set")
	}
	cases := []struct {
		name    string
		made    fs.FileMode
		perm    fs.FileMode
		chmod   bool
		want    fs.FileMode
		wantErr bool
	}{
		{"already right", 0o644, 0o644, false, 0o644, false},
		{"widened to perm", 0o600, 0o664, true, 0o664, false},
		{"narrowed to perm", 0o666, 0o644, true, 0o644, false},
		{"cannot narrow, others may write", 0o666, 0o644, false, 0o666, true},
		{"cannot narrow, group may write", 0o664, 0o644, false, 0o664, true},
		{"cannot widen: left as made", 0o600, 0o644, false, 0o600, false},
		{"group write chosen", 0o664, 0o664, false, 0o664, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mf := &modeFile{mode: tc.made}
			var f File = mf
			if tc.chmod {
				f = chmodFile{mf}
			}
			info, err := SetPerm(f, tc.perm)
			require.Equal(t, tc.made, info.Mode.Perm(), "the description as made")
			require.Equal(t, tc.wantErr, err != nil, "%v", err)
			if err != nil {
				require.True(t, errors.Is(err, errors.ErrUnsupported))
			}
			require.Equal(t, tc.want, mf.mode)
		})
	}
}
