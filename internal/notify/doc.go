// Package notify tells a waiting lock that the file it waits for may have
// changed, so that it can try again at once instead of at its next poll.
//
// A Watcher watches one thing at a time: the removal of one
// entry of a directory (WatchEntry), or one file being closed (WatchFile;
// WatchWrites: after writing), losing a link, or being renamed. Its channel C
// receives, without blocking the sender and coalesced, after such an event;
// it may also receive when nothing relevant happened (the caller then finds
// the lock still busy and waits again), and it may stay silent when a
// change was made where no event is raised: on another host of a network
// filesystem, or on a filesystem without notifications. A Watcher is
// therefore a way to wake early, never the only way to wake.
//
// On Linux it is inotify(7). Elsewhere New returns an error matching
// errors.ErrUnsupported, and callers poll.
package notify
