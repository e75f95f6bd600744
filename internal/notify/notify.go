package notify

import "errors"

// ErrUnsupported matches errors.ErrUnsupported; New returns it where the
// platform has no notifications.
var ErrUnsupported = errors.ErrUnsupported

// signal sends on c without blocking: one pending wake-up is enough.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
