//go:build !unix

package main

import (
	"context"
	"io"
	"os"
)

// openWriting opens path for writing, without emptying it, with O_CREAT
// as a shell's > opens it.
func openWriting(_ context.Context, path string, _ io.Writer) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o666)
}
