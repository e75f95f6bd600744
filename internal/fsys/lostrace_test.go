package fsys

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestLostRace(t *testing.T) {
	dir := t.TempDir()
	there := filepath.Join(dir, "there")
	if err := os.WriteFile(there, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		name string
		err  error
		path string
		want bool
	}{
		{"exists", &os.LinkError{Op: "link", Err: fs.ErrExist}, there, true},
		{"exists, gone since", &os.LinkError{Op: "link", Err: fs.ErrExist}, missing, true},
		{"sshfs's loser", &os.LinkError{Op: "link", Err: fs.ErrPermission}, there, true},
		{"a real permission error", &os.LinkError{Op: "link", Err: fs.ErrPermission}, missing, false},
		{"another error", &os.LinkError{Op: "link", Err: fs.ErrNotExist}, there, false},
		{"no error", nil, there, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _, _ := LostRace(OS{}, tc.path, tc.err); got != tc.want {
				t.Errorf("LostRace(%v, %s) = %v, want %v", tc.err, filepath.Base(tc.path), got, tc.want)
			}
		})
	}
}
