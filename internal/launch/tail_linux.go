package launch

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file is the part of the launch that runs after the last Go code:
// raw syscalls only, in go:nosplit functions, so that neither the stack
// check nor the scheduler can run between seccomp and execve (either may
// call futex, mmap or nanosleep, which the filter may kill), and so that
// it can run in a child forked from a multithreaded Go process.

// sigaction is the kernel's struct sigaction (x86_64, arm64).
type sigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// sockFprog is struct sock_fprog.
type sockFprog struct {
	len    uint16
	_      [6]byte
	filter unsafe.Pointer
}

// tailArgs holds everything the tail needs, built in advance.
type tailArgs struct {
	path  *byte
	argv  **byte
	envv  **byte
	prog  sockFprog
	flags uintptr // seccomp filter flags
	errfd uintptr
	dfl   sigaction
	mask  uint64 // signal mask for the target
	buf   [16]byte
}

//go:nosplit
//go:norace
func report(t *tailArgs, tag byte, errno uintptr) {
	t.buf[0] = tag
	t.buf[1] = byte(errno)
	t.buf[2] = byte(errno >> 8)
	t.buf[3] = byte(errno >> 16)
	t.buf[4] = byte(errno >> 24)
	syscall.RawSyscall(unix.SYS_WRITE, t.errfd, uintptr(unsafe.Pointer(&t.buf[0])), 5)
}

// resetSignals gives every signal its default disposition and restores
// the target's signal mask: no Go handler may run once the filter is in.
// SIGKILL and SIGSTOP answer EINVAL, which is fine.
//
//go:nosplit
//go:norace
func resetSignals(t *tailArgs) {
	for sig := uintptr(1); sig <= 64; sig++ {
		syscall.RawSyscall6(unix.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&t.dfl)), 0, 8, 0, 0)
	}
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&t.mask)), 0, 8, 0, 0)
}

// tail installs the filter on this thread and execs (after
// resetSignals). It never returns.
//
//go:nosplit
//go:norace
func tail(t *tailArgs) {
	if t.prog.len > 0 {
		_, _, e := syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, t.flags, uintptr(unsafe.Pointer(&t.prog)))
		if e != 0 {
			report(t, tagSeccomp, uintptr(e))
			syscall.RawSyscall(unix.SYS_EXIT_GROUP, exitSetupFailed, 0, 0)
		}
	}
	// The only syscall after seccomp, when it succeeds.
	_, _, e := syscall.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(t.path)), uintptr(unsafe.Pointer(t.argv)), uintptr(unsafe.Pointer(t.envv)))
	report(t, tagExec, uintptr(e))
	syscall.RawSyscall(unix.SYS_EXIT_GROUP, exitExecFailed, 0, 0)
}
