//go:build !linux

package fsys

func scanDir(name string, fn func(name []byte)) error {
	names, err := readDirNames(name)
	eachName(names, fn)
	return err
}
