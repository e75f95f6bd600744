//go:build !linux

package fsys

func scanDir(name string, fn func(name []byte)) error {
	names, err := readDirNames(name)
	for _, n := range names {
		fn([]byte(n))
	}
	return err
}
