//go:build unix

package detect

import (
	"os"
	"syscall"
)

// openNoWait opens path for reading without following a final symbolic
// link and without waiting for a FIFO's writer.
func openNoWait(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}
