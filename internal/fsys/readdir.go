package fsys

import "os"

// ReadDirNames returns the names of the entries of directory name, in no
// particular order. It is not part of FS: only the fair queue of filelock
// lists a directory, and it asks for this method where it needs it.
func (OS) ReadDirNames(name string) ([]string, error) {
	d, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return names, err
}
