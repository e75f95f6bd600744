//go:build !linux && !darwin && !windows

package proc

import (
	"errors"
	"time"
)

// On the BSDs and the other systems without a liveness check here there is
// no boot id or start time this package trusts, so SameHost is false and
// the stale rule falls back to age alone.

func bootID() string       { return "" }
func pidNamespace() string { return "" }

// machineID is empty here for now (the BSDs keep one, e.g. FreeBSD's
// kern.hostuuid, but without a boot id it would prove nothing).
func machineID() string { return "" }

// bootTime is unknown here: the rule it serves (EarlierBoot) needs a
// machine id too.
func bootTime() time.Time { return time.Time{} }

func startTime(int) (uint64, error) { return 0, errors.ErrUnsupported }

func check(Identity) State { return Unknown }

// monotonic is unknown here for now.
func monotonic() (time.Duration, bool) { return 0, false }
