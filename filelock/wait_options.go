package filelock

// WithFair makes blocking acquisitions take turns in the order they began,
// across processes and hosts: a first-come, first-served queue in front of
// the lock. Each waiter creates a ticket, a small file numbered one above
// the highest ticket it sees, in the directory named by the lock path with
// ".queue" appended (created when needed and removed when it empties). It
// waits until no ticket numbered below its own remains, watching only the
// ticket just before its own, so that the end of one turn wakes one waiter,
// not all of them; only then does it try the lock. Its ticket stays first
// in the queue while it holds the lock and is removed on release (or when
// it gives up), so that a release wakes the next waiter, and only it. A
// waiter keeps its ticket open for writing, so that its death closes it:
// on this host that too is an event for the waiter behind. Waiters that
// began at about the same moment may get the same number; the queue then
// orders them by the rest of the ticket's name. A ticket holds a holder
// record of its waiter: the ticket of a waiter that is provably dead (the
// same rule as for a holder: on this host, in this PID namespace, since
// this boot, and its process gone or reused) is removed by the waiter
// behind it. A live waiter refreshes its ticket while it waits and while it
// holds the lock, so a ticket that has not changed for the stale-after age
// (WithStaleAfter), by the filesystem's clock, is removed too, whoever made
// it (never with WithStaleAfter(0)); one without a valid record is removed
// once older than RecordGrace.
//
// Default handles (without WithBarging) join the same queue once they have
// waited past a bound, so that they take turns with fair ones. The queue
// never takes part in mutual exclusion, which the strategy alone provides,
// so a ticket removed in error costs a place in the queue, never a second
// holder. TryLock of a fair handle fails with ErrWouldBlock while a live
// waiter or holder has a ticket in the queue. Handles of one process are
// ordered among themselves by the process-wide table, which is not
// first-come, first-served. WithFair cannot be combined with WithShared:
// New rejects it.
func WithFair() Option {
	return func(c *config) { c.fair = true }
}

// WithPolling makes blocking acquisitions wait by polling alone (see
// WithBackoff). Without it a waiter also watches the lock for the event of
// its release where the platform reports such events (inotify on Linux)
// and tries again at once; the polling continues beside the watch, for the
// changes no event reports, such as those made by another host of a
// network filesystem. And an OS or OFD waiter on a local filesystem of
// Linux waits in the kernel instead, which hands it the lock at once; its
// context still ends the wait (docs/design.md). WithPolling is for comparing
// these and for systems whose supply of inotify instances is short.
func WithPolling() Option {
	return func(c *config) { c.polling = true }
}

// WithBarging makes blocking acquisitions try the lock, however long they
// wait, without ever joining the queue that serves waiters in turn or
// heeding the turns its waiters ask for: a release may be taken again at
// once by its holder or by a newcomer, and a waiter may wait without bound
// while others take the lock (starve). It
// gives the highest throughput when the lock is contended and nobody
// must wait long; without it, a waiter that has waited longer than the
// longest wait between attempts (WithBackoff) is served in turn. It is
// ignored with WithFair, whose waiters always take turns.
func WithBarging() Option {
	return func(c *config) { c.barging = true }
}

// queues reports whether blocking acquisitions may join the queue.
func (c *config) queues() bool { return c.fair || !c.barging && !c.shared }
