//go:build linux

package stress

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// deadOwner returns the owner record of a process that has died.
func deadOwner(t *testing.T) owner {
	t.Helper()
	me, err := self()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start, err := processStart(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return owner{pid: cmd.Process.Pid, start: start, boot: me.boot, pidNS: me.pidNS}
}

// ownedDir makes dir with an owner file holding b.
func ownedDir(t *testing.T, dir string, b []byte) string {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if b != nil {
		if err := os.WriteFile(filepath.Join(dir, ownerFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// sweep removes the directories of dead runs of this user, and nothing
// else: not those of live runs, of another boot or PID namespace, of
// another user, nor anything reached through a symbolic link.
func TestSweep(t *testing.T) {
	me, err := self()
	if err != nil {
		t.Fatal(err)
	}
	dead := deadOwner(t)
	reused := me
	reused.start++ // our PID, but another process's start: ours is not it
	otherBoot, otherNS := dead, dead
	otherBoot.boot = "00000000-0000-0000-0000-000000000000"
	otherNS.pidNS = "pid:[1]"
	elsewhere := ownedDir(t, filepath.Join(t.TempDir(), "lockstress-elsewhere"), dead.encode())
	root := os.Geteuid() == 0
	for _, tc := range []struct {
		name    string
		make    func(t *testing.T, path string) // makes the entry at path
		removed bool
	}{
		{"dead", func(t *testing.T, p string) { ownedDir(t, p, dead.encode()) }, true},
		{"pid reused", func(t *testing.T, p string) { ownedDir(t, p, reused.encode()) }, true},
		{"alive", func(t *testing.T, p string) { ownedDir(t, p, me.encode()) }, false},
		{"another boot", func(t *testing.T, p string) { ownedDir(t, p, otherBoot.encode()) }, false},
		{"another pid namespace", func(t *testing.T, p string) { ownedDir(t, p, otherNS.encode()) }, false},
		{"no owner file", func(t *testing.T, p string) { ownedDir(t, p, nil) }, false},
		{"garbage owner file", func(t *testing.T, p string) { ownedDir(t, p, []byte("pid 1\n")) }, false},
		{"owner file is a link", func(t *testing.T, p string) {
			ownedDir(t, p, nil)
			if err := os.Symlink(filepath.Join(elsewhere, ownerFile), filepath.Join(p, ownerFile)); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"directory is a link", func(t *testing.T, p string) {
			if err := os.Symlink(elsewhere, p); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a file", func(t *testing.T, p string) {
			if err := os.WriteFile(p, dead.encode(), 0o600); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"another user's directory", func(t *testing.T, p string) {
			if !root {
				t.Skip("only root can make a directory of another user")
			}
			ownedDir(t, p, dead.encode())
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"another user's owner file", func(t *testing.T, p string) {
			if !root {
				t.Skip("only root can make a file of another user")
			}
			ownedDir(t, p, dead.encode())
			if err := os.Chown(filepath.Join(p, ownerFile), 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			path := filepath.Join(parent, "lockstress-x")
			tc.make(t, path)
			other := ownedDir(t, filepath.Join(parent, "other-x"), dead.encode())
			removed := sweep(parent, "lockstress-")
			if got := slices.Equal(removed, []string{path}); got != tc.removed {
				t.Errorf("sweep removed %v; want %s removed: %v", removed, path, tc.removed)
			}
			if _, err := os.Lstat(path); os.IsNotExist(err) != tc.removed {
				t.Errorf("after the sweep, Lstat(%s): %v", path, err)
			}
			if _, err := os.Stat(filepath.Join(other, ownerFile)); err != nil {
				t.Errorf("a directory of another prefix was touched: %v", err)
			}
			if _, err := os.Stat(filepath.Join(elsewhere, ownerFile)); err != nil {
				t.Errorf("a sweep followed a link: %v", err)
			}
		})
	}
}

// A run's directories carry its owner file, which parseOwner reads back.
func TestOwnerFile(t *testing.T) {
	dir := t.TempDir()
	if err := markOwned(dir); err != nil {
		t.Fatal(err)
	}
	o, ok := readOwner(dir)
	me, err := self()
	if err != nil || !ok || o != me {
		t.Fatalf("readOwner = %+v, %v; want %+v (%v)", o, ok, me, err)
	}
	if o.dead(me) {
		t.Error("this process is taken for dead")
	}
	if err := markOwned(dir); err == nil {
		t.Error("markOwned overwrote an owner file")
	}
	for _, bad := range []string{"", ownerMagic + "\n", string(me.encode()) + "x", "lockstress-owner v2\npid 1\nstart 1\nboot b\npidns p\n",
		ownerMagic + "\npid 0\nstart 1\nboot b\npidns p\n", ownerMagic + "\npid 1\nstart x\nboot b\npidns p\n", ownerMagic + "\npid 1\nstart 1\nboot \npidns p\n"} {
		if _, err := parseOwner([]byte(bad)); err == nil {
			t.Errorf("parseOwner(%q) accepted it", bad)
		}
	}
}
