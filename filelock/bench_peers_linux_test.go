//go:build linux

package filelock

import (
	"path/filepath"
	"testing"

	gofrs "github.com/gofrs/flock"
	"golang.org/x/sys/unix"
)

// BenchmarkPeers sets each strategy's uncontended acquire+release beside
// what a user would compare it with, in one run: gofrs/flock's Lock+Unlock
// and a bare open+flock+unlock+close for os and ofd, a bare O_EXCL
// create+write+close+unlink for soft, a bare claim+link+unlink for link.
// The bare loops write the record only where the peer's own protocol
// writes one (a lock file of its own, the claim).
//
//	go test -run '^$' -bench Peers -count 10 ./filelock | tee peers.txt
func BenchmarkPeers(b *testing.B) {
	b.Run("gofrs-flock", func(b *testing.B) {
		fl := gofrs.New(filepath.Join(benchDir(b), "gofrs.lock"))
		for b.Loop() {
			must(b, fl.Lock())
			must(b, fl.Unlock())
		}
		b.StopTimer()
		unix.Unlink(fl.Path())
	})
	b.Run("bare-flock", func(b *testing.B) {
		path := filepath.Join(benchDir(b), "bare.lock")
		for b.Loop() {
			fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o666)
			must(b, err)
			must(b, unix.Flock(fd, unix.LOCK_EX))
			must(b, unix.Flock(fd, unix.LOCK_UN))
			must(b, unix.Close(fd))
		}
		b.StopTimer()
		unix.Unlink(path)
	})
	b.Run("os", func(b *testing.B) { benchLock(b, OS) })
	b.Run("ofd", func(b *testing.B) { benchLock(b, OFD) })
	b.Run("bare-excl", func(b *testing.B) {
		path := filepath.Join(benchDir(b), "bare.lock")
		for b.Loop() {
			fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o666)
			must(b, err)
			_, err = unix.Write(fd, rawRecord)
			must(b, err)
			must(b, unix.Close(fd))
			must(b, unix.Unlink(path))
		}
	})
	b.Run("soft", func(b *testing.B) { benchLock(b, Soft) })
	b.Run("bare-link", func(b *testing.B) {
		dir := benchDir(b)
		path, claim := filepath.Join(dir, "bare.lock"), filepath.Join(dir, "bare.lock.claim")
		for b.Loop() {
			fd, err := unix.Open(claim, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o666)
			must(b, err)
			_, err = unix.Write(fd, rawRecord)
			must(b, err)
			must(b, unix.Close(fd))
			must(b, unix.Link(claim, path))
			must(b, unix.Unlink(claim))
			must(b, unix.Unlink(path))
		}
	})
	b.Run("link", func(b *testing.B) { benchLock(b, Link) })
}

// BenchmarkSystemCalls times the system calls an acquisition is made of,
// alone: what a cycle of BenchmarkPeers cannot cost less than, call for
// call (docs/performance.md, "What a system call costs here").
func BenchmarkSystemCalls(b *testing.B) {
	dir := benchDir(b)
	path := filepath.Join(dir, "x.lock")
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	must(b, err)
	defer unix.Close(fd)
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	must(b, err)
	defer unix.Close(dfd)
	var st unix.Stat_t
	b.Run("getppid", func(b *testing.B) {
		for b.Loop() {
			unix.Getppid()
		}
	})
	b.Run("fstat", func(b *testing.B) {
		for b.Loop() {
			must(b, unix.Fstat(fd, &st))
		}
	})
	b.Run("fstatat-relative", func(b *testing.B) {
		for b.Loop() {
			must(b, unix.Fstatat(dfd, "x.lock", &st, unix.AT_SYMLINK_NOFOLLOW))
		}
	})
	b.Run("lstat-absolute", func(b *testing.B) {
		for b.Loop() {
			must(b, unix.Lstat(path, &st))
		}
	})
}
