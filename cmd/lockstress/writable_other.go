//go:build !unix

package main

// writable returns nil: where the system has no access check of Unix's,
// a path that cannot be written shows only when it is.
func writable(string) error { return nil }
