//go:build !linux

package notify

// Watcher is not available on this platform; New always fails.
type Watcher struct{}

// New returns an error matching errors.ErrUnsupported: this platform has no
// notifications that this package uses. Callers poll.
func New() (*Watcher, error) { return nil, ErrUnsupported }

// C never receives.
func (*Watcher) C() <-chan struct{} { return nil }

// WatchEntry fails with ErrUnsupported.
func (*Watcher) WatchEntry(dir, name string) error { return ErrUnsupported }

// WatchFile fails with ErrUnsupported.
func (*Watcher) WatchFile(path string) error { return ErrUnsupported }

// WatchWrites fails with ErrUnsupported.
func (*Watcher) WatchWrites(path string) error { return ErrUnsupported }

// Close does nothing.
func (*Watcher) Close() error { return nil }

// Wait does nothing.
func (*Watcher) Wait() {}

// Settle does nothing.
func Settle() {}
