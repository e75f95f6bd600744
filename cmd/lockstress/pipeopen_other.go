//go:build !unix

package main

import (
	"context"
	"io"
	"os"
)

// openWriting opens path for writing, without emptying it.
func openWriting(_ context.Context, path string, _ io.Writer) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY, 0)
}
