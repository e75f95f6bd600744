//go:build unix

package filelock

// Multi-user tests: a victim takes locks while an attacker, another user,
// tampers with them. Each side runs in a child process with its user's
// credentials. By default the victim is root and the attacker the user
// nobody, in directories the tests make. Root ignores file permissions,
// which can hide a defect: scripts/multiuser runs the tests with two
// unprivileged users instead, through these variables:
//
//	FILELOCK_TEST_VICTIM=uid:gid    the victim (default: this process's user)
//	FILELOCK_TEST_ATTACKER=uid:gid  the attacker (default: nobody, 65534:65534)
//	FILELOCK_TEST_SHARED_DIR=dir    a sticky directory all users may write,
//	                                as /tmp (default: a fresh one, mode 1777)
//	FILELOCK_TEST_TEAM_DIR=dir      a set-group-ID directory that both users
//	                                may write as members of its group (default:
//	                                a fresh one of the victim, of the
//	                                attacker's group, mode 2775)

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func init() {
	// lockas: the victim's side. It sets the umask of FILELOCK_TEST_UMASK
	// and tries the lock of FILELOCK_TEST_LOCK once (childOptions, the
	// permission of FILELOCK_TEST_PERM, WithCreateDirs with
	// FILELOCK_TEST_CREATE_DIRS, never stale with FILELOCK_TEST_NEVER_STALE;
	// with Lock, bounded, if FILELOCK_TEST_BLOCKING is set, else TryLock),
	// and says how it went (see outcome). A lock it took it holds until
	// stdin closes if FILELOCK_TEST_HOLD is set. With
	// FILELOCK_TEST_PAUSE_CLAIM, it says "claim <path>" once its first link
	// claim is made, and goes on when it reads a line.
	childRoles["lockas"] = func() error {
		path := envOf("FILELOCK_TEST_LOCK")
		if m := os.Getenv("FILELOCK_TEST_UMASK"); m != "" {
			syscall.Umask(int(octalMode(m)))
		}
		opts := childOptions()
		if os.Getenv("FILELOCK_TEST_CREATE_DIRS") != "" {
			opts = append(opts, WithCreateDirs(0o755))
		}
		if os.Getenv("FILELOCK_TEST_NEVER_STALE") != "" {
			opts = append(opts, WithStaleAfter(0))
		}
		stdin := bufio.NewReader(os.Stdin)
		if os.Getenv("FILELOCK_TEST_PAUSE_CLAIM") != "" {
			paused := false
			createdHook = func(p string) {
				if !paused && strings.HasPrefix(p, path+"."+kindClaim+".") {
					paused = true
					fmt.Println("claim " + p)
					if _, err := stdin.ReadString('\n'); err != nil {
						panic(err)
					}
				}
			}
		}
		l, err := New(path, opts...)
		if err != nil {
			return err
		}
		acquire := l.TryLock
		if os.Getenv("FILELOCK_TEST_BLOCKING") != "" {
			acquire = func() error { return lockWithin(l) }
		}
		err = acquire()
		fmt.Println(outcome(err))
		if err != nil {
			return nil
		}
		if os.Getenv("FILELOCK_TEST_HOLD") != "" {
			if _, err := io.Copy(io.Discard, stdin); err != nil {
				return err
			}
		}
		return l.Unlock()
	}
	// plant: the attacker's side. It makes FILELOCK_TEST_AT as
	// FILELOCK_TEST_PLANT says: an empty "file" or a "dir" of mode
	// FILELOCK_TEST_MODE, or a "symlink" or "hardlink" to
	// FILELOCK_TEST_TO; then says "planted", or "denied" if the system
	// refused it permission.
	childRoles["plant"] = func() error {
		at := envOf("FILELOCK_TEST_AT")
		var err error
		switch kind := envOf("FILELOCK_TEST_PLANT"); kind {
		case "file":
			err = os.WriteFile(at, nil, octalMode(envOf("FILELOCK_TEST_MODE")))
		case "dir":
			if err = os.Mkdir(at, 0o700); err == nil {
				err = os.Chmod(at, octalMode(envOf("FILELOCK_TEST_MODE")))
			}
		case "symlink":
			err = os.Symlink(envOf("FILELOCK_TEST_TO"), at)
		case "hardlink":
			err = os.Link(envOf("FILELOCK_TEST_TO"), at)
		default:
			return fmt.Errorf("nothing to plant called %q", kind)
		}
		if errors.Is(err, fs.ErrPermission) {
			fmt.Print("denied")
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Print("planted")
		return nil
	}
}

// outcome names how an acquisition went: "taken", "busy", "unsafe"
// (ErrUnsafeDirectory), "denied" (a permission error), or the error.
func outcome(err error) string {
	switch {
	case err == nil:
		return "taken"
	case errors.Is(err, ErrWouldBlock):
		return "busy"
	case errors.Is(err, ErrUnsafeDirectory):
		return "unsafe"
	case errors.Is(err, fs.ErrPermission):
		return "denied"
	}
	return "error: " + err.Error()
}

// testUser is a side of a multi-user test.
type testUser struct {
	name string
	cred *syscall.Credential // nil: this process's user
}

// ids returns the user's user and group IDs.
func (u testUser) ids() (uid, gid int) {
	if u.cred == nil {
		return os.Geteuid(), os.Getegid()
	}
	return int(u.cred.Uid), int(u.cred.Gid)
}

// users are the two sides of a multi-user test and what they share.
type users struct {
	victim, attacker testUser
	shared           string // a sticky directory all users may write
	team             string // a set-group-ID directory of both users' group
	exe              string // the test binary, where both users may run it
}

// multiUser returns the users of the environment's multi-user test (see
// the top of this file). It skips the test unless it runs as root.
func multiUser(t *testing.T) *users {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run the victim and the attacker as users of their own")
	}
	us := &users{
		victim:   envUser(t, "victim", "FILELOCK_TEST_VICTIM", ""),
		attacker: envUser(t, "attacker", "FILELOCK_TEST_ATTACKER", "65534:65534"),
		shared:   os.Getenv("FILELOCK_TEST_SHARED_DIR"),
		team:     os.Getenv("FILELOCK_TEST_TEAM_DIR"),
		exe:      runnableExe(t),
	}
	if us.shared == "" {
		us.shared = tempDirMode(t, 0o777|fs.ModeSticky)
	}
	if us.team == "" {
		us.team = tempDirMode(t, 0o775|fs.ModeSetgid)
		uid, _ := us.victim.ids()
		_, gid := us.attacker.ids()
		require.NoError(t, os.Chown(us.team, uid, gid))
		require.NoError(t, os.Chmod(us.team, 0o775|fs.ModeSetgid)) // chown clears set-group-ID
	}
	return us
}

// envUser reads the user "uid:gid" of the variable env, or def if it is
// unset; "" is this process's user. The user is given its groups from the
// user database, as a login would.
func envUser(t *testing.T, name, env, def string) testUser {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		v = def
	}
	if v == "" {
		return testUser{name: name}
	}
	uidStr, gidStr, ok := strings.Cut(v, ":")
	uid, uerr := strconv.ParseUint(uidStr, 10, 32)
	gid, gerr := strconv.ParseUint(gidStr, 10, 32)
	if !ok || uerr != nil || gerr != nil {
		t.Fatalf("%s=%q: want uid:gid", env, v)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if u, err := user.LookupId(uidStr); err == nil {
		groups, err := u.GroupIds()
		require.NoError(t, err)
		for _, g := range groups {
			n, err := strconv.ParseUint(g, 10, 32)
			require.NoError(t, err)
			cred.Groups = append(cred.Groups, uint32(n))
		}
	}
	return testUser{name: name, cred: cred}
}

// tempDirMode returns a fresh directory of mode, removed when the test
// ends, where other users may reach it: in the temporary directory, or in
// /tmp if a directory above that one shuts other users out (a TMPDIR in
// root's home).
func tempDirMode(t *testing.T, mode fs.FileMode) string {
	t.Helper()
	base := os.TempDir()
	if !othersMaySearch(base) {
		if base = "/tmp"; !othersMaySearch(base) {
			t.Skipf("other users may enter neither %s nor /tmp: set TMPDIR to a directory they may", os.TempDir())
		}
	}
	dir, err := os.MkdirTemp(base, "filelock-users")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, mode))
	return dir
}

// runnableExe returns the test binary if every user may run it where it
// is, or else a copy every user may run, removed when the test ends.
func runnableExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	if othersMayRun(exe) {
		return exe
	}
	data, err := os.ReadFile(exe)
	require.NoError(t, err)
	copied := filepath.Join(tempDirMode(t, 0o755), "filelock.test")
	require.NoError(t, os.WriteFile(copied, data, 0o755))
	return copied
}

// othersMayRun reports whether users other than the owner (and its group)
// may run the program at path: it and every directory above it grant
// others what running needs.
func othersMayRun(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().Perm()&0o005 == 0o005 && othersMaySearch(filepath.Dir(path))
}

// othersMaySearch reports whether users other than the owner (and its
// group) may pass through dir and every directory above it.
func othersMaySearch(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for ; ; dir = filepath.Dir(dir) {
		info, err := os.Stat(dir)
		if err != nil || info.Mode().Perm()&0o001 == 0 {
			return false
		}
		if dir == filepath.Dir(dir) {
			return true
		}
	}
}

// freshName returns a name in dir that no other test uses, to which the
// test adds suffixes; everything in dir whose name starts with it is
// removed when the test ends.
func freshName(t *testing.T, dir string) string {
	t.Helper()
	b := make([]byte, 8)
	_, err := rand.Read(b)
	require.NoError(t, err)
	name := filepath.Join(dir, "filelock-test-"+hex.EncodeToString(b))
	t.Cleanup(func() {
		made, _ := filepath.Glob(name + "*")
		for _, p := range made {
			os.RemoveAll(p)
		}
	})
	return name
}

// victimDir makes a private directory of the victim at path: one the
// victim, but not the attacker, may write.
func (us *users) victimDir(t *testing.T, path string) {
	t.Helper()
	require.NoError(t, os.Mkdir(path, 0o700))
	uid, gid := us.victim.ids()
	require.NoError(t, os.Chown(path, uid, gid))
}

// victimMayWrite reports whether the victim may open the file at path
// for writing, by its mode, owner and group (root may write any).
func (us *users) victimMayWrite(t *testing.T, path string) bool {
	t.Helper()
	uid, gid := us.victim.ids()
	if uid == 0 {
		return true
	}
	info, err := os.Stat(path)
	require.NoError(t, err)
	st := info.Sys().(*syscall.Stat_t)
	perm := info.Mode().Perm()
	groups := []uint32{uint32(gid)}
	if us.victim.cred != nil {
		groups = append(groups, us.victim.cred.Groups...)
	}
	switch {
	case st.Uid == uint32(uid):
		return perm&0o200 != 0
	case slices.Contains(groups, st.Gid):
		return perm&0o020 != 0
	}
	return perm&0o002 != 0
}

// command returns a child of the test binary in role, with env, run as u,
// in the root directory, and killed if it runs longer than testLockWait.
func (us *users) command(t *testing.T, u testUser, role string, env ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testLockWait)
	t.Cleanup(cancel)
	base := childCommand(t, role, env...)
	cmd := exec.CommandContext(ctx, us.exe, base.Args[1:]...)
	cmd.Env, cmd.Dir = base.Env, "/"
	if u.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: u.cred}
	}
	return cmd
}

// run runs role as u and returns what it said, failing the test if it
// failed.
func (us *users) run(t *testing.T, u testUser, role string, env ...string) string {
	t.Helper()
	out, err := us.command(t, u, role, env...).Output()
	require.NoError(t, err, "%s as the %s: %s", role, u.name, exitStderr(err))
	return strings.TrimSpace(string(out))
}

// userChild is a child that the test talks to line by line.
type userChild struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr strings.Builder
}

// start starts role as u.
func (us *users) start(t *testing.T, u testUser, role string, env ...string) *userChild {
	t.Helper()
	c := &userChild{cmd: us.command(t, u, role, env...)}
	c.cmd.Stderr = &c.stderr
	var err error
	c.in, err = c.cmd.StdinPipe()
	require.NoError(t, err)
	out, err := c.cmd.StdoutPipe()
	require.NoError(t, err)
	c.out = bufio.NewReader(out)
	require.NoError(t, c.cmd.Start())
	t.Cleanup(func() {
		c.in.Close()
		_ = c.cmd.Wait()
	})
	return c
}

// line returns the child's next line; a child that ends first (or is
// killed at its deadline) fails the test.
func (c *userChild) line(t *testing.T) string {
	t.Helper()
	s, err := c.out.ReadString('\n')
	require.NoError(t, err, "%s said %q and ended: %s", c.cmd.Args, s, c.stderr.String())
	return strings.TrimSuffix(s, "\n")
}

// send writes a line to the child.
func (c *userChild) send(t *testing.T, s string) {
	t.Helper()
	_, err := io.WriteString(c.in, s+"\n")
	require.NoError(t, err)
}

// stop closes the child's stdin and waits for it to end, which it must
// without an error.
func (c *userChild) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, c.in.Close())
	_, err := io.Copy(io.Discard, c.out)
	require.NoError(t, err)
	require.NoError(t, c.cmd.Wait(), "%s", c.stderr.String())
}

// exitStderr returns what a child that failed wrote on stderr.
func exitStderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}
