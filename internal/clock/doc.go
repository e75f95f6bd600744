// Package clock puts time behind a small interface so that code which waits
// or measures age can be driven by a test without real sleeps: Real is the
// machine's clock, Fake moves only when a test advances it.
package clock
