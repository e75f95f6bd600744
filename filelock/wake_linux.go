//go:build linux

package filelock

import "golang.org/x/sys/unix"

// eventsSeeAll reports whether every change to files in dir raises an
// inotify event here: true for filesystems that only this kernel changes
// (local disks and memory), false for network and FUSE filesystems, whose
// other clients change files behind its back, and for any filesystem not
// known. Clustered filesystems on shared disks (gfs2, ocfs2) are not local.
func eventsSeeAll(dir string) bool {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return false
	}
	switch uint32(st.Type) {
	case unix.TMPFS_MAGIC, unix.RAMFS_MAGIC, unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC,
		unix.BTRFS_SUPER_MAGIC, unix.F2FS_SUPER_MAGIC, 0x2fc12fc1 /* zfs */, unix.OVERLAYFS_SUPER_MAGIC:
		return true
	}
	return false
}
