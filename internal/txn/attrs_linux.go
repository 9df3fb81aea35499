package txn

import "golang.org/x/sys/unix"

// The inode flags of chattr(1), from linux/fs.h (golang.org/x/sys/unix
// has the ioctl's number but not these).
const (
	fsImmutableFL = 0x10 // FS_IMMUTABLE_FL, chattr +i
	fsAppendFL    = 0x20 // FS_APPEND_FL, chattr +a
)

// attrs reports whether path (followed if a link) is immutable or
// append-only, as lsattr(1) does: FS_IOC_GETFLAGS, or statx's attributes
// when path cannot be opened (a file another user may read only, on which
// a non-root certctl still renames). A file system without the flags, or
// a path certctl can neither open nor stat, has neither: the rename is
// then the test, and its error is explained afterwards.
func attrs(path string) (immutable, appendOnly bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err == nil {
		flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
		unix.Close(fd)
		if err == nil {
			return flags&fsImmutableFL != 0, flags&fsAppendFL != 0
		}
	}
	var stx unix.Statx_t
	if unix.Statx(unix.AT_FDCWD, path, 0, 0, &stx) != nil {
		return false, false
	}
	known := stx.Attributes_mask & stx.Attributes
	return known&unix.STATX_ATTR_IMMUTABLE != 0, known&unix.STATX_ATTR_APPEND != 0
}

// mountRoot reports whether path itself (not followed) is the root of a
// mount, a file bind-mounted over: rename(2) and unlink(2) refuse to
// replace it (EBUSY), even for root. statx says so since Linux 5.8;
// before, it reports false and the rename is the test.
func mountRoot(path string) bool {
	var stx unix.Statx_t
	if unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, 0, &stx) != nil {
		return false
	}
	return stx.Attributes_mask&stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
}

// writable reports why the calling user may not create, remove and rename
// files in dir: EACCES, EROFS (a read-only mount), EPERM (immutable).
func writable(dir string) error {
	return unix.Access(dir, unix.W_OK|unix.X_OK)
}

// device returns the mount of path, followed if a link: its file system
// (st_dev) and, where the kernel says (Linux 5.8+), its mount ID, and
// whether it could tell. A bind mount of a folder of the same file system
// has the same st_dev, yet rename(2) from another mount fails with EXDEV.
func device(path string) (mountID, bool) {
	var stx unix.Statx_t
	if unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_BASIC_STATS|unix.STATX_MNT_ID, &stx) != nil {
		return mountID{}, false
	}
	id := mountID{dev: uint64(stx.Dev_major)<<32 | uint64(stx.Dev_minor)}
	if stx.Mask&unix.STATX_MNT_ID != 0 {
		id.mnt = stx.Mnt_id
	}
	return id, true
}
