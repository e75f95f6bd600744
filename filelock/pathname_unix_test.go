//go:build !windows

package filelock

import "testing"

// TestDirOf pins the directory of a lock path as written, at the root and
// with doubled separators included: the parent-directory rules and the
// sweep look there.
func TestDirOf(t *testing.T) {
	for _, tc := range []struct{ path, dir, beside string }{
		{"x.lock", ".", "./n"},
		{"/x.lock", "/", "/n"},
		{"//x.lock", "/", "/n"},
		{"/a/x.lock", "/a", "/a/n"},
		{"/a//x.lock", "/a", "/a/n"},
		{"a/b/x.lock", "a/b", "a/b/n"},
		{"/a", "/", "/n"},
		// As written, never cleaned: after a link, ".." is not lexical.
		{"a/../x.lock", "a/..", "a/../n"},
		{"a/./x.lock", "a/.", "a/./n"},
		{"./x.lock", ".", "./n"},
	} {
		if got := dirOf(tc.path); got != tc.dir {
			t.Errorf("dirOf(%q) = %q, want %q", tc.path, got, tc.dir)
		}
		if got := besideDir(dirOf(tc.path), "n"); got != tc.beside {
			t.Errorf("besideDir(dirOf(%q), \"n\") = %q, want %q", tc.path, got, tc.beside)
		}
	}
}
