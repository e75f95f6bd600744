package stress

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Filesystem describes the filesystem under test.
type Filesystem struct {
	// Path is the run directory.
	Path string `json:"path"`
	// Type is the filesystem type named by its statfs magic number, or
	// "unknown"; Magic is that number in hex.
	Type  string `json:"type"`
	Magic string `json:"magic"`
	// MountPoint, MountType, Source and Options come from the line of
	// /proc/self/mountinfo whose mount point is the longest prefix of
	// Path: the mount options followed by the superblock options.
	MountPoint string `json:"mount_point"`
	MountType  string `json:"mount_type"`
	Source     string `json:"source"`
	Options    string `json:"options"`
}

// String describes the filesystem in one line.
func (f Filesystem) String() string {
	name := f.MountType
	if name == "" {
		name = f.Type
	}
	s := fmt.Sprintf("%s on %s", f.Path, name)
	if f.Type != "" && f.Type != name && !strings.Contains(f.Type, name) {
		s += fmt.Sprintf(" (statfs: %s)", f.Type)
	}
	if f.MountPoint != "" {
		s += fmt.Sprintf(", %s mounted at %s", f.Source, f.MountPoint)
	}
	if f.Options != "" {
		s += " (" + f.Options + ")"
	}
	return s
}

// fsMagic names filesystems by their statfs f_type (linux/magic.h and the
// filesystems' own headers).
var fsMagic = map[int64]string{
	0x01021994: "tmpfs",
	0x858458f6: "ramfs",
	0xef53:     "ext2/ext3/ext4",
	0x58465342: "xfs",
	0x9123683e: "btrfs",
	0x2fc12fc1: "zfs",
	0xf2f52010: "f2fs",
	0x3153464a: "jfs",
	0x52654973: "reiserfs",
	0x6969:     "nfs",
	0x65735546: "fuse",
	0x794c7630: "overlayfs",
	0xff534d42: "cifs",
	0xfe534d42: "smb2",
	0x517b:     "smb",
	0x00c36400: "ceph",
	0x01021997: "9p",
	0x01161970: "gfs2",
	0x7461636f: "ocfs2",
	0x0bd00bd0: "lustre",
	0x5346414f: "afs",
	0x6b414653: "afs",
	0x4d44:     "vfat",
	0x2011bab0: "exfat",
	0x5346544e: "ntfs",
	0x7366746e: "ntfs3",
	0x73717368: "squashfs",
	0x9660:     "iso9660",
	0x72b6:     "jffs2",
	0x24051905: "ubifs",
	0x19800202: "mqueue",
	0x62656572: "sysfs",
	0x9fa0:     "proc",
	0xcafe4a11: "bpf",
	0x47504653: "gpfs",
	0x786f4256: "vboxsf",
	0xbacbacbc: "vmhgfs",
	0x53464846: "wslfs",
	0x5dca2df5: "sdcardfs",
}

// localFilesystems are the filesystems (by Type) whose page cache is the
// only copy a process can see, so that a file kept open sees every write
// at once. On any other (network, FUSE, unknown) a file is reopened to see
// other clients' writes.
var localFilesystems = map[string]bool{
	"tmpfs": true, "ramfs": true, "ext2/ext3/ext4": true, "xfs": true, "btrfs": true, "zfs": true,
	"f2fs": true, "jfs": true, "reiserfs": true, "overlayfs": true, "vfat": true, "exfat": true,
	"ntfs": true, "ntfs3": true,
}

// probeFilesystem describes the filesystem holding path. What cannot be
// found out is left empty.
func probeFilesystem(path string) Filesystem {
	fs := Filesystem{Path: path, Type: "unknown"}
	if magic, err := statfsMagic(path); err == nil {
		fs.Magic = fmt.Sprintf("%#x", magic)
		if name, ok := fsMagic[magic]; ok {
			fs.Type = name
		}
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fs
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return fs
	}
	defer f.Close()
	if m, ok := findMount(f, resolved); ok {
		fs.MountPoint, fs.MountType, fs.Source = m.point, m.fstype, m.source
		fs.Options = mergeOptions(m.options, m.superOptions)
	}
	return fs
}

type mount struct {
	point, fstype, source, options, superOptions string
}

// findMount returns the mount of /proc/self/mountinfo (read from r) whose
// mount point is the longest prefix of the absolute path; of equal mount
// points the last one, which is on top.
func findMount(r io.Reader, path string) (mount, bool) {
	var best mount
	found := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		m, ok := parseMountInfoLine(sc.Text())
		if !ok || !under(path, m.point) {
			continue
		}
		if !found || len(m.point) >= len(best.point) {
			best, found = m, true
		}
	}
	return best, found
}

// parseMountInfoLine parses one line of mountinfo (proc(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
func parseMountInfoLine(line string) (mount, bool) {
	pre, post, ok := strings.Cut(line, " - ")
	if !ok {
		return mount{}, false
	}
	a, b := strings.Fields(pre), strings.Fields(post)
	if len(a) < 6 || len(b) < 2 {
		return mount{}, false
	}
	m := mount{point: unescapeMount(a[4]), options: a[5], fstype: b[0], source: unescapeMount(b[1])}
	if len(b) > 2 {
		m.superOptions = b[2]
	}
	return m, true
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func under(path, point string) bool {
	if point == "/" {
		return strings.HasPrefix(path, "/")
	}
	return path == point || strings.HasPrefix(path, point+"/")
}

// mergeOptions joins mount and superblock options, without repeats.
func mergeOptions(a, b string) string {
	seen := map[string]bool{}
	var out []string
	for _, o := range strings.Split(a+","+b, ",") {
		if o != "" && !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return strings.Join(out, ",")
}
