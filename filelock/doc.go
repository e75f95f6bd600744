// Package filelock provides advisory locks that exclude other processes,
// on this host or on others sharing a filesystem, through a lock file.
//
// # Strategies
//
// A Lock excludes other owners by one of four strategies (WithStrategy):
//
//   - Soft (the default) creates the lock file exclusively with the
//     holder's record in it and removes it on release. It works on every
//     filesystem where exclusive creation is atomic. Pick it unless one of
//     the others fits better.
//   - Link is Soft made safe on NFS without relying on O_EXCL: the record
//     is written to a claim file that is hard-linked to the lock path. Pick
//     it for a lock on NFS shared by several hosts. Soft and Link lock files
//     are the same kind of file, so the two exclude each other on one path.
//   - OS takes the operating system's advisory lock on a lock file that is
//     kept: flock(2) on Linux, macOS, the BSDs and illumos, LockFileEx on
//     Windows. The kernel drops the lock when its holder dies, and shared
//     locks are available (WithShared). Pick it to exclude other programs
//     that use flock, or when holders may die and must not leave a lock
//     behind. A user who may only read the lock file, or who finds it on
//     a read-only filesystem, can still take it, unless that file is
//     another user's in a sticky directory all users may write (see Other
//     users).
//   - OFD is OS with Linux open-file-description fcntl locks. They are
//     byte-range locks, which reach the server on NFS and exclude other
//     programs' fcntl and lockf locks. Linux only.
//
// Soft and Link exclude each other; no other two strategies do (on Linux
// flock and fcntl locks are separate), so every program using one lock path
// must use one strategy, or Soft and Link. Strategies lists the strategies
// the running platform supports.
//
// # Errors
//
// Every error New, the methods of Lock, Inspect and AtomicInit return for a
// lock path is an *fs.PathError naming the operation and the path as
// given. Its Err matches one of the package's sentinel errors (ErrTimeout,
// ErrWouldBlock, ErrNotLocked, ErrLockLost, ...) with errors.Is, or is the
// operating system's error, which matches fs.ErrPermission,
// fs.ErrNotExist and the like. A wait ended by a context also matches the
// context's error.
//
// # Ownership
//
// Ownership belongs to the handle that New returns, not to a goroutine or a
// process: acquiring a handle that already holds the lock counts one more
// acquisition (or fails with ErrLockLost once that holding was found lost),
// and the lock is released when Unlock has been called as many times. Two
// handles for one path exclude each other (unless both are shared), in one
// process as in two; goroutines sharing one handle share its ownership, so
// give each goroutine that must be excluded its own.
//
// # Stale locks
//
// A Soft or Link lock file outlives a holder that dies, so the next waiter
// breaks it by the stale rule (WithStaleAfter): at once if its record shows
// a holder on this host that is provably dead (or one of an earlier boot
// of this machine, by its machine id), and otherwise once the file
// has not changed for the stale-after age, DefaultStaleAfter (5 minutes)
// unless set, and this host has seen it unchanged for three fifths of
// that age: the waiter's process itself, or on Linux an earlier process,
// whose sighting is kept in a file beside the lock. A live holder refreshes its lock file
// (WithHeartbeat), so age breaks only the lock of a holder that died, or
// was stopped for that long less one heartbeat interval (see Lock.Lost),
// even when a clock steps
// forward. A lock file without a record of this package is another
// program's, and is broken only by age, never for that alone: its holder
// is taken for dead once it has not changed for the stale-after age,
// alive or not, unless that program refreshes it (as flufl.lock and
// dotlockfile -t do); give such locks a stale-after age above their
// longest hold. The
// OS and OFD strategies need no stale rule: the kernel releases their
// locks when the holder dies.
//
// # Fairness
//
// An exclusive waiter does not starve. A blocking acquisition first tries
// the lock as every file lock does, so that a holder that takes it again at
// once keeps it without waking anybody; once it has waited a while (the
// longest backoff step, see WithBackoff), it joins a queue beside the lock,
// and the waiters in the queue are served in its order, each after the
// holder has had a short turn. A shared (WithShared) acquisition does not
// queue, but gives way for a few seconds at most while a waiter asks for
// its turn, so that readers whose short holds overlap do not keep a writer
// out. WithBarging handles never queue or give way, so they can still keep
// the lock from a waiter; and a waiter stopped in the queue (SIGSTOP) holds
// up those behind it until its ticket ages past the stale-after age, as
// with WithFair. WithFair makes every blocking acquisition queue, so that all
// take the lock in the order they began (first come, first served), across
// processes and hosts; WithBarging makes none queue, for the most
// throughput at the risk of starving some.
//
// # Other users
//
// Only those who may write the lock file, or remove it (its owner, the
// directory's owner, root, and whoever may write the directory unless it
// is sticky), can let a second process take the lock. So every file a
// lock makes gets the mode of WithPerm, which never lets others write,
// and, unless WithDirectoryWritableByAll:
//
//   - a lock directory that all users may write without the sticky bit is
//     refused with ErrUnsafeDirectory;
//   - in a sticky directory all users may write (as /tmp), where anyone
//     could have made anything first, so is an OS or OFD lock file of
//     another user, and a lock directory of another user (as /tmp/app),
//     or one reached through another user's symbolic link there, unless a
//     directory of this user or root that others may not write stands
//     between them.
//
// Elsewhere a lock's directory that another user made, a team's, is as
// safe as that user is trusted, since its owner can remove anything in it.
// Other users can still keep the lock's users waiting, which no file lock
// can prevent: in a directory where they may make files, by taking the
// lock path first, and by taking the OS lock of a lock file they may read.
// Keep a lock that must not be held up in a directory that only its users
// may write.
//
// # Quick start
//
//	l, err := filelock.New("/var/lib/app/state.lock")
//	if err != nil {
//		return err // a bad path or option
//	}
//	if err := l.Lock(); err != nil {
//		return err
//	}
//	defer l.Unlock()
//
// TryLock makes one attempt and fails with an error matching ErrWouldBlock
// if another owner holds the lock; LockContext waits as long as a context
// allows. Inspect reports who holds a lock, and AtomicInit runs a function
// once across processes. The reasoning behind the design is in
// docs/design.md of the module's repository.
package filelock
