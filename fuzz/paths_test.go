package fuzz

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstress/lockstress/filelock"
)

// sandbox is a temporary directory whose subdirectory root is where fuzzed
// paths are resolved. The parent is listed too, so a lock file that
// escapes the root is seen.
type sandbox struct {
	parent string
	root   string
}

// newSandbox makes a sandbox with a few things a path can run into: a
// directory tree (d, d/e), a regular file with data (f), a symbolic link to
// a sibling directory (ld), a dangling symbolic link that points out of the
// root (dangling) and, where the platform has them, a FIFO (fifo).
func newSandbox(t *testing.T) sandbox {
	t.Helper()
	parent, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sb := sandbox{parent: parent, root: filepath.Join(parent, "root")}
	for _, step := range []func() error{
		func() error { return os.MkdirAll(filepath.Join(sb.root, "d", "e"), 0o755) },
		func() error { return os.WriteFile(filepath.Join(sb.root, "f"), []byte("data"), 0o644) },
		func() error { return os.Symlink("d", filepath.Join(sb.root, "ld")) },
		func() error { return os.Symlink(filepath.Join("..", "outside"), filepath.Join(sb.root, "dangling")) },
		func() error { return mkfifo(filepath.Join(sb.root, "fifo")) },
	} {
		if err := step(); err != nil {
			t.Fatalf("making the sandbox: %v", err)
		}
	}
	return sb
}

// invalidForm reports whether path can never name a lock file by its form
// alone: empty, with a NUL byte, or with a last element that is empty (a
// trailing separator), "." or "..".
func invalidForm(path string) bool {
	if path == "" || strings.IndexByte(path, 0) >= 0 {
		return true
	}
	last := path[strings.LastIndexAny(path, "/"+string(filepath.Separator))+1:]
	return last == "" || last == "." || last == ".."
}

// resolve returns where the kernel puts the file that the absolute path
// names: its components are followed one by one from the root of the
// filesystem, symbolic links evaluated, until one does not exist; the rest
// is joined lexically. Each component is looked at once, so a very deep
// path costs no more than the kernel's own walk.
func resolve(path string) string {
	target, _ := walkPath(path, false)
	return target
}

// resolveMaking is resolve once WithCreateDirs has made the missing
// directories on the way, as os.MkdirAll makes them: it reports false if
// they cannot all be made, because something on the way that is followed
// by more of the path is not a directory (a file, a dangling link).
func resolveMaking(path string) (string, bool) { return walkPath(path, true) }

// walkPath is resolve, or with making resolveMaking: at a component that
// does not exist, it stops and joins the rest lexically, or it takes the
// component for a directory that is made, and goes on.
func walkPath(path string, making bool) (string, bool) {
	vol := filepath.VolumeName(path)
	rest := strings.Split(filepath.ToSlash(path[len(vol):]), "/")
	done := vol + string(filepath.Separator)
	made := map[string]bool{}
	for hops := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			done = filepath.Dir(done)
			continue
		}
		next := filepath.Join(done, c)
		last := strings.Join(rest, "") == ""
		info, err := os.Lstat(next)
		switch {
		case !making && err != nil:
			return filepath.Join(append([]string{next}, rest...)...), true
		case making && (made[next] || made[done] || errors.Is(err, fs.ErrNotExist)):
			if !last {
				made[next] = true
			}
		case err != nil:
			return "", false
		case info.Mode()&os.ModeSymlink != 0 && (!making || !last) && hops <= 40:
			target, err := os.Readlink(next)
			if err != nil {
				return filepath.Join(append([]string{next}, rest...)...), !making
			}
			if _, err := os.Stat(next); making && err != nil {
				return "", false // dangling: MkdirAll cannot make it
			}
			hops++
			if filepath.IsAbs(target) {
				done = vol + string(filepath.Separator)
			}
			rest = append(strings.Split(filepath.ToSlash(target), "/"), rest...)
			continue
		case making && !info.IsDir() && !last:
			return "", false
		}
		done = next
	}
	return done, true
}

// maxCreatedDepth is the most path elements that FuzzPaths lets
// WithCreateDirs make; a deeper path is locked without the option.
const maxCreatedDepth = 64

// shortestRefusedName is below the shortest lock file name New may refuse
// for leaving too little room for the names made beside it: those add at
// most some 70 bytes to it, up to NAME_MAX (255).
const shortestRefusedName = 150

func FuzzPaths(f *testing.F) {
	f.Fuzz(func(t *testing.T, rel string, createDirs bool) {
		if createDirs && strings.Count(rel, "/") > maxCreatedDepth {
			// Thousands of nested directories cost seconds to make, list
			// and remove, and find nothing that a few do not.
			createDirs = false
		}
		for _, s := range filelock.Strategies() {
			checkPath(t, s, rel, createDirs)
		}
	})
}

// checkPath locks root/rel with strategy s, or sees it rejected, and checks
// that nothing is left behind.
func checkPath(t *testing.T, s filelock.Strategy, rel string, createDirs bool) {
	sb := newSandbox(t)
	path := sb.root + string(filepath.Separator) + rel
	opts := []filelock.Option{filelock.WithStrategy(s)}
	if createDirs {
		opts = append(opts, filelock.WithCreateDirs(0o755))
	}
	what := func(op string) string { return s.String() + " " + op + " " + quoteShort(rel) }

	l, err := filelock.New(path, opts...)
	if invalidForm(path) {
		requireClear(t, what("New"), err, path, filelock.ErrInvalidPath)
		return
	}
	if err != nil && len(filepath.Base(path)) > shortestRefusedName && errors.Is(err, filelock.ErrInvalidPath) {
		// A name that leaves no room for the names made beside it (guard,
		// claims, moved-aside files) is refused at once.
		requireClear(t, what("New"), err, path, filelock.ErrInvalidPath)
		return
	}
	requireNoError(t, what("New"), err)
	if l.Path() != path || l.Strategy() != s {
		t.Fatalf("%s: handle has path %q and strategy %v", what("New"), l.Path(), l.Strategy())
	}
	if !isUnder(filepath.Clean(path), sb.root) {
		// The path names something outside the root: that is the caller's
		// choice, and such a lock file is never made here.
		return
	}

	before := listing(t, sb.parent)
	fds := openFDs(t)
	info, lerr := os.Lstat(path)
	if createDirs && errors.Is(lerr, fs.ErrNotExist) {
		// The directories made on the way may lead to a file that is
		// already there: "0/../f" names f once 0 is made.
		if target, ok := resolveMaking(path); ok {
			info, lerr = os.Lstat(target)
		}
	}
	existingFile := lerr == nil && info.Mode().IsRegular()
	// A kernel strategy locks a file that holds something else as it is,
	// writing no record into it.
	recordless := existingFile && info.Size() > 0 && !fileBased(s)

	var tryErr error
	within(t, what("TryLock"), func() { tryErr = l.TryLock() })
	switch {
	case tryErr == nil:
		if fileBased(s) && existingFile {
			t.Fatalf("%s: acquired although a file is already there", what("TryLock"))
		}
		exercise(t, what, l, path, opts, recordless)
	case fileBased(s) && existingFile:
		requireClear(t, what("TryLock"), tryErr, path, filelock.ErrWouldBlock)
	default:
		requireClear(t, what("TryLock"), tryErr, path)
		if errors.Is(tryErr, filelock.ErrWouldBlock) {
			// Go on: what the attempt left behind says more.
			t.Errorf("%s: %v, but nothing holds the lock", what("TryLock"), tryErr)
		}
	}
	if tryErr != nil {
		if d := l.Depth(); d != 0 {
			t.Fatalf("%s: failed, but Depth is %d", what("TryLock"), d)
		}
		var st filelock.Status
		var err error
		within(t, what("Inspect"), func() { st, err = l.Inspect() })
		if err != nil {
			requireClear(t, what("Inspect"), err, path)
		} else if st.Holder != nil && st.Holder.PID == os.Getpid() {
			t.Fatalf("%s: after a failed TryLock, Inspect names this process: %s", what("Inspect"), showStatus(st))
		}
		requireClear(t, what("Unlock"), l.Unlock(), path, filelock.ErrNotLocked)
	}

	requireNoNewFDs(t, fds)
	requireNothingLeft(t, sb, before, path, createDirs, tryErr == nil && !fileBased(s))
}

// exercise runs a handle that has just been acquired through reentrancy,
// exclusion, inspection and release.
func exercise(t *testing.T, what func(string) string, l *filelock.Lock, path string, opts []filelock.Option, recordless bool) {
	t.Helper()
	requireHeld := requireHeldByMe
	if recordless {
		requireHeld = requireHeldWithoutRecord
	}
	if d := l.Depth(); d != 1 {
		t.Fatalf("%s: Depth %d after TryLock, want 1", what("Depth"), d)
	}
	var st filelock.Status
	var err error
	within(t, what("Inspect"), func() { st, err = l.Inspect() })
	requireNoError(t, what("Inspect"), err)
	requireHeld(t, what("Inspect"), st)
	within(t, what("filelock.Inspect"), func() { st, err = filelock.Inspect(path, opts...) })
	requireNoError(t, what("filelock.Inspect"), err)
	requireHeld(t, what("filelock.Inspect"), st)

	other, err := filelock.New(path, opts...)
	requireNoError(t, what("New (second handle)"), err)
	within(t, what("TryLock (second handle)"), func() { err = other.TryLock() })
	requireClear(t, what("TryLock (second handle)"), err, path, filelock.ErrWouldBlock)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	within(t, what("LockContext (second handle, canceled)"), func() { err = other.LockContext(canceled) })
	requireClear(t, what("LockContext (second handle, canceled)"), err, path, context.Canceled)

	within(t, what("TryLock (again)"), func() { err = l.TryLock() })
	requireNoError(t, what("TryLock (again)"), err)
	if d := l.Depth(); d != 2 {
		t.Fatalf("%s: Depth %d after a second TryLock, want 2", what("Depth"), d)
	}
	requireNoError(t, what("Unlock 2"), l.Unlock())
	requireNoError(t, what("Unlock 1"), l.Unlock())
	requireClear(t, what("Unlock 0"), l.Unlock(), path, filelock.ErrNotLocked)
	within(t, what("Inspect (released)"), func() { st, err = l.Inspect() })
	requireNoError(t, what("Inspect (released)"), err)
	requireFree(t, what("Inspect (released)"), st)

	ctx, cancel := context.WithTimeout(context.Background(), hangAfter/2)
	defer cancel()
	within(t, what("LockContext"), func() { err = l.LockContext(ctx) })
	requireNoError(t, what("LockContext"), err)
	requireNoError(t, what("Unlock"), l.Unlock())

	// The second handle gets it now: the release left nothing that
	// excludes it, in this process or in the file.
	within(t, what("TryLock (second handle, released)"), func() { err = other.TryLock() })
	requireNoError(t, what("TryLock (second handle, released)"), err)
	requireNoError(t, what("Unlock (second handle)"), other.Unlock())
}

// requireNothingLeft fails the input if the sandbox differs from before
// other than by what locking path may leave: the directories WithCreateDirs
// made on the way to the lock file, and, when keptFile is set, the lock file
// itself, empty and inside the root.
func requireNothingLeft(t *testing.T, sb sandbox, before map[string]entry, path string, createDirs, keptFile bool) {
	t.Helper()
	after := listing(t, sb.parent)
	target := resolve(path)
	made := map[string]bool{}
	if createDirs {
		made = onTheWay(path)
	}
	for name, e := range after {
		b, existed := before[name]
		if existed && b == e {
			continue
		}
		full := filepath.Join(sb.parent, filepath.FromSlash(name))
		switch {
		case createDirs && !existed && e.mode.IsDir() && (isUnder(target, full) || made[full]) && isUnder(full, sb.root):
			// a parent directory that acquisition made
		case keptFile && full == target && isUnder(full, sb.root) && e.mode.IsRegular() && e.content == "":
			// the lock file that the OS strategies keep, released
		default:
			t.Fatalf("locking %s left the sandbox changed:\n%s", quoteShort(path), strings.Join(changes(before, after), "\n"))
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			t.Fatalf("locking %s removed %s:\n%s", quoteShort(path), name, strings.Join(changes(before, after), "\n"))
		}
	}
}

// onTheWay returns where each leading part of path leads once the
// directories WithCreateDirs makes are there: "0/../f" makes 0, which is on
// the way although the lock file is beside it.
func onTheWay(path string) map[string]bool {
	made := map[string]bool{}
	for i := range len(path) {
		if path[i] == '/' || path[i] == filepath.Separator {
			made[resolve(path[:i])] = true
		}
	}
	return made
}
