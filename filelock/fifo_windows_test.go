//go:build windows

package filelock

import "errors"

func mkfifo(string) error { return errors.ErrUnsupported }
