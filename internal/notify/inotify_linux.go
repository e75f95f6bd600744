//go:build linux

package notify

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Watcher watches one directory entry or one file; see the package
// documentation. Its methods are safe for concurrent use.
type Watcher struct {
	f *os.File // the inotify descriptor, non-blocking, in the runtime's poller
	c chan struct{}

	mu   sync.Mutex
	wd   int    // the current watch, -1 if none
	name string // WatchEntry: the entry's name; "" for WatchFile

	done   chan struct{} // closed when the reading goroutine has returned
	closed chan struct{} // closed when the descriptor is released

	closing bool // Close was called (under mu)
}

// New returns a Watcher that watches nothing yet. It fails when inotify is
// unavailable or its per-user limit of instances is reached; the caller
// then polls. Close releases it.
func New() (*Watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	w := &Watcher{
		// A non-blocking descriptor is registered with the runtime's
		// poller, so the reader below parks without holding a thread and
		// Close wakes it.
		f:      os.NewFile(uintptr(fd), "inotify"),
		c:      make(chan struct{}, 1),
		wd:     -1,
		done:   make(chan struct{}),
		closed: make(chan struct{}),
	}
	go w.read()
	return w, nil
}

// C receives after an event of what is watched (see the package
// documentation).
func (w *Watcher) C() <-chan struct{} { return w.c }

// Entry events: the entry is removed, or a descriptor of it that was open
// for writing is closed (a holder that keeps its lock file open dies).
// Renaming it away is not watched: a lock file is released by removal, and
// a lock file renamed away is being looked at by a breaker, which may put
// it back — waking waiters into that moment would invite them to take the
// lock from its holder. The directory's own removal or renaming wakes
// (inotify then drops the watch). Events of an entry already removed are
// not raised (IN_EXCL_UNLINK).
const entryMask = unix.IN_DELETE | unix.IN_CLOSE_WRITE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF |
	unix.IN_ONLYDIR | unix.IN_EXCL_UNLINK

// File events: a descriptor of it closed after writing (a holder's release
// or death), a change of its link count or attributes (removal), its
// deletion or renaming.
const writesMask = unix.IN_CLOSE_WRITE | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF |
	unix.IN_DONT_FOLLOW

// fileMask adds the closing of a descriptor opened for reading only, as
// flock(1) opens the file it locks. Reading the file watched raises it too,
// so a watcher that reads what it watches wakes itself: such a watcher
// uses writesMask.
const fileMask = writesMask | unix.IN_CLOSE_NOWRITE

// WatchEntry replaces what w watches by the entry name of directory dir:
// C receives when it is removed (not when it is renamed away), and when a
// descriptor of it that was opened for writing is closed. The directory
// must exist; the entry need not.
func (w *Watcher) WatchEntry(dir, name string) error { return w.watch(dir, name, entryMask) }

// WatchFile replaces what w watches by the file at path, without following
// a symbolic link: C receives when any descriptor of it is closed (which
// includes the death of a process that had it open), when it loses a link
// or its attributes change, and when it is deleted or renamed. It fails
// with an error matching fs.ErrNotExist if there is no file at path.
func (w *Watcher) WatchFile(path string) error { return w.watch(path, "", fileMask) }

// WatchWrites is WatchFile without the closing of descriptors opened for
// reading only, so that the watcher may read the file without waking
// itself.
func (w *Watcher) WatchWrites(path string) error { return w.watch(path, "", writesMask) }

func (w *Watcher) watch(path, name string, mask uint32) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closing {
		return &fs.PathError{Op: "inotify_add_watch", Path: path, Err: os.ErrClosed}
	}
	wd, err := addWatch(w.f, path, mask)
	if err != nil {
		return &fs.PathError{Op: "inotify_add_watch", Path: path, Err: err}
	}
	if w.wd >= 0 && w.wd != wd {
		_ = rmWatch(w.f, w.wd) // it may be gone already (IN_IGNORED)
	}
	w.wd, w.name = wd, name
	return nil
}

func addWatch(f *os.File, path string, mask uint32) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var wd int
	var werr error
	if err := rc.Control(func(fd uintptr) {
		for {
			wd, werr = unix.InotifyAddWatch(int(fd), path, mask)
			if werr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return 0, err
	}
	return wd, werr
}

func rmWatch(f *os.File, wd int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var rerr error
	if err := rc.Control(func(fd uintptr) { _, rerr = unix.InotifyRmWatch(int(fd), uint32(wd)) }); err != nil {
		return err
	}
	return rerr
}

// eventBufs holds the reading buffers, of room for at least one event with
// a NAME_MAX name: a waiter makes a Watcher at every wait.
var eventBufs = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// read turns events into wake-ups until the descriptor is closed.
func (w *Watcher) read() {
	defer close(w.done)
	bp := eventBufs.Get().(*[]byte)
	defer eventBufs.Put(bp)
	buf := *bp
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			// Anything else is unexpected: wake the waiter, which tries
			// again and keeps polling, and stop reading.
			signal(w.c)
			return
		}
		if w.relevant(buf[:n]) {
			signal(w.c)
		}
	}
}

// relevant reports whether a batch of events concerns what is watched now.
func (w *Watcher) relevant(b []byte) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(b) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&b[0]))
		end := unix.SizeofInotifyEvent + int(ev.Len)
		if end > len(b) {
			return true // cannot happen; wake rather than miss
		}
		name := b[unix.SizeofInotifyEvent:end]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		b = b[end:]
		switch {
		case ev.Mask&unix.IN_Q_OVERFLOW != 0:
			return true // events were lost: one of them may have mattered
		case int(ev.Wd) != w.wd || ev.Mask&unix.IN_IGNORED != 0:
			continue // an earlier watch, or the removal of a watch
		case w.name != "" && ev.Mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) == 0 && string(name) != w.name:
			continue // another entry of the directory
		}
		return true
	}
	return false
}

// Close stops watching at once (no event wakes C any more) and releases
// the descriptor in the background: it does not wait for the reading
// goroutine, nor for the removal of the watch and the kernel's release of
// the inotify instance, since a waiter closes its watcher on the way to the
// lock it has just taken. Wait, or Settle, waits for the release. Close
// after the first returns os.ErrClosed.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		return os.ErrClosed
	}
	w.closing = true
	wd := w.wd
	w.wd = -1 // from now on no event is relevant
	w.mu.Unlock()
	releasing.Add(1)
	go func() {
		defer releasing.Done()
		defer close(w.closed)
		if wd >= 0 {
			// Removing the watch first makes the release of the instance
			// cheaper for the kernel; it may be gone already (IN_IGNORED).
			_ = rmWatch(w.f, wd)
		}
		w.f.Close() // returns once the reading goroutine has let go of it
	}()
	return nil
}

// Wait waits until a closed Watcher has released its descriptor and its
// reading goroutine has returned.
func (w *Watcher) Wait() {
	<-w.done
	<-w.closed
}

// releasing counts the Watchers closed and not yet released.
var releasing sync.WaitGroup

// Settle waits until every Watcher closed so far has released its
// descriptor: for tests that count their open descriptors. It must not be
// called while Watchers are being closed (no acquisition in progress).
func Settle() { releasing.Wait() }
