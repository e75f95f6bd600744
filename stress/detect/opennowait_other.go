//go:build !unix

package detect

import "os"

// openNoWait opens path for reading; a symbolic link is refused, as
// O_NOFOLLOW refuses it elsewhere (openRegular says what it is).
func openNoWait(path string) (*os.File, error) {
	if info, err := os.Lstat(path); err == nil && info.Mode()&os.ModeSymlink != 0 {
		return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrInvalid}
	}
	return os.Open(path)
}
