//go:build unix && !linux

package fuzz

import (
	"errors"
	"os"
)

// ofdLock is never called where the OFD strategy does not exist.
func ofdLock(*os.File) error { return errors.ErrUnsupported }
