package launch

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// explainExec says why execve of path failed with errno, where leash can
// tell: set-uid/set-gid files and file capabilities under no_new_privs,
// noexec mounts, missing execute permission for the target's uid.
func explainExec(path string, errno syscall.Errno, uid int) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	switch errno {
	case syscall.EACCES, syscall.EPERM:
		if fi.IsDir() {
			return "is a directory"
		}
		if fi.Mode()&0o111 == 0 {
			return "no execute permission"
		}
		if dir := unsearchable(path, uid); dir != "" {
			return fmt.Sprintf("uid %d may not search the directory %s on its path", uid, dir)
		}
		if st != nil && uid != 0 && int(st.Uid) != uid && fi.Mode()&0o001 == 0 {
			return fmt.Sprintf("not executable by uid %d", uid)
		}
		if hasFileCaps(path) {
			return "the file has file capabilities; under no_new_privs the kernel grants none of them and refuses the exec where the program requires them"
		}
		if fi.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 {
			return "set-uid/set-gid file: no_new_privs keeps the kernel from changing ids at exec"
		}
		return "denied by a mount option (noexec), an LSM or the seccomp filter"
	case syscall.ENOEXEC:
		return "not an executable format the kernel knows"
	}
	return ""
}

// unsearchable returns the first directory on path's way that uid (with
// no supplementary groups, as leash runs it) may not search, judged by
// its owner and mode bits ("" when none, or for root).
func unsearchable(path string, uid int) string {
	if uid == 0 {
		return ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return ""
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		bit := os.FileMode(0o001)
		if ok && int(st.Uid) == uid {
			bit = 0o100
		}
		if fi.Mode().Perm()&bit == 0 && (!ok || int(st.Uid) == uid || fi.Mode().Perm()&0o010 == 0) {
			return dir
		}
		if dir == "/" {
			return ""
		}
	}
}

func hasFileCaps(path string) bool {
	buf := make([]byte, 64)
	n, err := syscall.Getxattr(path, "security.capability", buf)
	return err == nil && n > 0
}

// Identify returns the identity of an open file (Spec.Exe).
func Identify(f *os.File) (*FileID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	return &FileID{Dev: st.Dev, Ino: st.Ino, Size: st.Size, Ctime: st.Ctim.Sec, CtimeNsec: st.Ctim.Nsec}, nil
}
