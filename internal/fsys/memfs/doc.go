// Package memfs is an in-memory filesystem implementing fsys.FS, for tests
// that run the file-based lock strategies without touching a disk: many
// simulated processes can share one FS, and a test can stop any of them
// between two file operations.
//
// It keeps the POSIX semantics the strategies depend on: every file is an
// inode with a number, a link count and a modification time; a name is a
// directory entry pointing at an inode; an exclusive create fails if the
// name exists; a hard link adds a name for the same inode; rename replaces
// its target atomically; removing a name leaves open files readable.
// Modification times come from a clock the test controls.
//
// What it leaves out: symbolic links, FIFOs and devices (nothing in fsys.FS
// makes them), owners other than the user running it (every file is the
// effective user's), permission checks (the caller is all-powerful, as
// root is),
// the umask (a new file gets exactly the permission asked for), access
// times, and durability (Sync and SyncDir only check their argument).
package memfs
