//go:build windows

package filelock

import "path/filepath"

// Windows resolves "." and ".." in a path lexically before it looks at the
// filesystem, so the cleaned path names the same file as the path as
// written.

// absolute returns path made absolute and cleaned.
func absolute(path string) (string, error) { return filepath.Abs(path) }

// dirOf returns the directory that holds the last element of path.
func dirOf(path string) string { return filepath.Dir(path) }

// besideDir returns the name in directory dir.
func besideDir(dir, name string) string { return filepath.Join(dir, name) }
