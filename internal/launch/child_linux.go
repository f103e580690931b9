package launch

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The child: a clone (with the namespace flags) of the launcher's
// locking thread, running the plan with raw syscalls in go:nosplit
// functions only. It never returns to Go: it execs or calls exit_group.
// There is no second Go runtime to start (re-executing leash would cost a
// few milliseconds of start-up for every launch).

// Tags of the child's messages on the report pipe.
const (
	tagExec    = 'E' // execve failed: errno follows (4 bytes, little-endian)
	tagSeccomp = 'F' // seccomp failed: errno follows
	tagOp      = 'O' // a setup op failed: op index (4 bytes), errno (4 bytes)
	tagSession = 'T' // audit session id: length byte, decimal text
	tagChanged = 'C' // the file at the path is not the one checked (Spec.Exe)
	tagAlive   = 'A' // nothing: the child checks that leash still reads the pipe
)

// Exit codes of the child when it could not get to execve.
const (
	exitExecFailed  = 127
	exitSetupFailed = 125
)

//go:nosplit
//go:norace
func rawWrite(fd uintptr, p unsafe.Pointer, n uintptr) {
	syscall.RawSyscall(unix.SYS_WRITE, fd, uintptr(p), n)
}

//go:nosplit
//go:norace
func putLE(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

//go:nosplit
//go:norace
func exitGroup(code uintptr) {
	for {
		syscall.RawSyscall(unix.SYS_EXIT_GROUP, code, 0, 0)
	}
}

// failOp reports op idx failing with errno and exits.
//
//go:nosplit
//go:norace
func failOp(pl *plan, idx uint32, errno syscall.Errno) {
	b := &pl.tail.buf
	b[0] = tagOp
	putLE(b[1:5], idx)
	putLE(b[5:9], uint32(errno))
	rawWrite(pl.repfd, unsafe.Pointer(&b[0]), 9)
	exitGroup(exitSetupFailed)
}

// runOps runs a list of ops.
//
//go:nosplit
//go:norace
func runOps(pl *plan, ops []op) {
	for i := 0; i < len(ops); i++ {
		o := &ops[i]
		switch o.kind {
		case opSyscall:
			_, _, e := syscall.RawSyscall6(o.nr, o.args[0], o.args[1], o.args[2], o.args[3], o.args[4], o.args[5])
			if e != 0 && e != o.ok {
				failOp(pl, o.idx, e)
			}
		case opLoopback:
			fd, _, e := syscall.RawSyscall(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if e != 0 {
				failOp(pl, o.idx, e)
			}
			if _, _, e = syscall.RawSyscall(unix.SYS_IOCTL, fd, unix.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&pl.ifr[0]))); e != 0 {
				failOp(pl, o.idx, e)
			}
			pl.ifr[16] |= unix.IFF_UP // ifr_flags, after the 16-byte name
			if _, _, e = syscall.RawSyscall(unix.SYS_IOCTL, fd, unix.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&pl.ifr[0]))); e != 0 {
				failOp(pl, o.idx, e)
			}
			syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
		case opChdir:
			if _, _, e := syscall.RawSyscall(unix.SYS_CHDIR, o.args[0], 0, 0); e != 0 {
				if _, _, e := syscall.RawSyscall(unix.SYS_CHDIR, o.args[1], 0, 0); e != 0 {
					failOp(pl, o.idx, e)
				}
			}
		case opOpenTTY:
			fd, _, e := syscall.RawSyscall(unix.SYS_OPEN_TREE, atFDCWDRaw, o.args[0], unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
			if e == 0 {
				pl.ttyTree = fd
			}
		case opMoveTTY:
			if pl.ttyTree == 0 {
				continue
			}
			_, _, e := syscall.RawSyscall6(unix.SYS_MKNODAT, atFDCWDRaw, o.args[0], unix.S_IFREG|0o600, 0, 0, 0)
			if e == 0 {
				syscall.RawSyscall6(unix.SYS_MOVE_MOUNT, pl.ttyTree, uintptr(unsafe.Pointer(&emptyPath[0])), atFDCWDRaw, o.args[0], unix.MOVE_MOUNT_F_EMPTY_PATH, 0)
			}
			syscall.RawSyscall(unix.SYS_CLOSE, pl.ttyTree, 0, 0)
			pl.ttyTree = 0
		case opAlive:
			pl.aliveBuf[0] = tagAlive
			if _, _, e := syscall.RawSyscall(unix.SYS_WRITE, pl.repfd, uintptr(unsafe.Pointer(&pl.aliveBuf[0])), 1); e == syscall.EPIPE {
				exitGroup(exitSetupFailed) // leash is gone: nobody to report to
			}
		case opAudit:
			// Best effort: without it, reports fall back to the pid.
			fd, _, e := syscall.RawSyscall6(unix.SYS_OPENAT, atFDCWDRaw, uintptr(unsafe.Pointer(pl.loginuidPath)), unix.O_WRONLY|unix.O_CLOEXEC, 0, 0, 0)
			if e != 0 {
				continue
			}
			_, _, e = syscall.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&pl.loginuid[0])), uintptr(len(pl.loginuid)))
			syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
			if e != 0 {
				continue
			}
			fd, _, e = syscall.RawSyscall6(unix.SYS_OPENAT, atFDCWDRaw, uintptr(unsafe.Pointer(pl.sessionidPath)), unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
			if e != 0 {
				continue
			}
			n, _, e := syscall.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&pl.session[2])), uintptr(len(pl.session)-2))
			syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
			if e != 0 || n == 0 {
				continue
			}
			pl.session[0] = tagSession
			pl.session[1] = byte(n)
			rawWrite(pl.repfd, unsafe.Pointer(&pl.session[0]), n+2)
		}
	}
}

// emptyPath is "" for the *at syscalls' empty-path forms.
var emptyPath = [1]byte{0}

// atFDCWDRaw is AT_FDCWD (-100) as a raw argument.
const atFDCWDRaw = ^uintptr(99)

// childMain is the child's whole life.
//
//go:nosplit
//go:norace
func childMain(pl *plan) {
	runOps(pl, pl.setup)
	if !pl.pidns {
		targetMain(pl, true)
	}
	// PID namespace: this is pid 1. It takes the target's credentials
	// (ids, capabilities, no_new_privs) and becomes non-dumpable before
	// it starts the target, so that no process of the namespace ever
	// holds more than the target. The target is a fork of it (not a
	// vfork: this thread must go on), held on a pipe until the init has
	// installed its own filter and closed every descriptor it had from
	// leash: a target that can ptrace it (CAP_SYS_PTRACE) then finds a
	// process with its own credentials, no descriptors, and a filter that
	// allows only what initLoop calls.
	runOps(pl, pl.creds)
	runOps(pl, pl.initOnly)
	pid, _, e := syscall.RawSyscall6(unix.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		failOp(pl, pl.forkIdx, e)
	}
	if pid == 0 {
		syscall.RawSyscall(unix.SYS_CLOSE, uintptr(pl.gate[1]), 0, 0)
		for {
			n, _, e := syscall.RawSyscall(unix.SYS_READ, uintptr(pl.gate[0]), uintptr(unsafe.Pointer(&pl.gateBuf[0])), 1)
			if e == syscall.EINTR {
				continue
			}
			if n != 1 {
				exitGroup(exitSetupFailed) // the init failed (and reported why)
			}
			break
		}
		syscall.RawSyscall(unix.SYS_CLOSE, uintptr(pl.gate[0]), 0, 0)
		targetMain(pl, false)
	}
	syscall.RawSyscall(unix.SYS_CLOSE, uintptr(pl.gate[0]), 0, 0)
	if _, _, e := syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&pl.initProg))); e != 0 {
		failOp(pl, pl.initIdx, e)
	}
	// Every descriptor but the gate: the report pipe, leash's own
	// (/dev/kmsg, the Go runtime's), and the target's 0-2 and kept ones,
	// which the target has in a table of its own.
	g := uintptr(pl.gate[1])
	if g > 0 {
		syscall.RawSyscall(unix.SYS_CLOSE_RANGE, 0, g-1, 0)
	}
	syscall.RawSyscall(unix.SYS_CLOSE_RANGE, g+1, ^uintptr(0)>>32, 0)
	pl.gateBuf[0] = 'g'
	syscall.RawSyscall(unix.SYS_WRITE, g, uintptr(unsafe.Pointer(&pl.gateBuf[0])), 1)
	syscall.RawSyscall(unix.SYS_CLOSE, g, 0, 0)
	// In a new session the target leads a process group of its own
	// (setpgid in pl.pgrp, before its execve): the signals go to the
	// whole group, kill(-pid).
	to := pid
	if pl.newSession {
		to = -pid
	}
	initLoop(pl, pid, to)
}

// targetMain drops privileges (unless the init did: creds false) and
// execs the target.
//
//go:nosplit
//go:norace
func targetMain(pl *plan, creds bool) {
	runOps(pl, pl.pgrp)
	if creds {
		runOps(pl, pl.creds)
	}
	runOps(pl, pl.chdir)
	resetSignals(&pl.tail)
	// Check what execve will check, as the target's uid, while a failure
	// can still be reported: after the filter, write may be denied. Last
	// but for seccomp, so that little time is left between checking that
	// path is the file leash hashed (exeCheck) and execve.
	path := uintptr(unsafe.Pointer(pl.tail.path))
	_, _, e := syscall.RawSyscall6(unix.SYS_NEWFSTATAT, atFDCWDRaw, path, uintptr(unsafe.Pointer(&pl.stat)), 0, 0, 0)
	if e == 0 && pl.stat.Mode&unix.S_IFMT != unix.S_IFREG {
		e = syscall.EACCES
	}
	if e == 0 && pl.exeCheck && (pl.stat.Dev != pl.exe.Dev || pl.stat.Ino != pl.exe.Ino ||
		pl.stat.Size != pl.exe.Size || pl.stat.Ctim.Sec != pl.exe.Ctime || pl.stat.Ctim.Nsec != pl.exe.CtimeNsec) {
		report(&pl.tail, tagChanged, 0)
		exitGroup(exitExecFailed)
	}
	if e == 0 {
		_, _, e = syscall.RawSyscall(unix.SYS_FACCESSAT, atFDCWDRaw, path, unix.X_OK)
	}
	if e != 0 {
		report(&pl.tail, tagExec, uintptr(e))
		exitGroup(exitExecFailed)
	}
	tail(&pl.tail)
}

// initLoop waits for the forwarded signals (blocked since the fork, so
// queued even though pid 1 has no handler) and passes them on to to (the
// target, or its process group), waits for children, reaps every zombie,
// and exits with the target's status.
//
//go:nosplit
//go:norace
func initLoop(pl *plan, target, to uintptr) {
	for {
		sig, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGTIMEDWAIT, uintptr(unsafe.Pointer(&pl.waitSet)), uintptr(unsafe.Pointer(&pl.siginfo[0])), 0, 8, 0, 0)
		if e != 0 {
			continue // EINTR
		}
		if sig != uintptr(syscall.SIGCHLD) {
			syscall.RawSyscall(unix.SYS_KILL, to, sig, 0)
			continue
		}
		for {
			wpid, _, e := syscall.RawSyscall6(unix.SYS_WAIT4, ^uintptr(0), uintptr(unsafe.Pointer(&pl.status)), unix.WNOHANG, 0, 0, 0)
			if e != 0 || wpid == 0 {
				break
			}
			if wpid != target {
				continue
			}
			st := uint32(pl.status)
			if st&0x7f == 0 { // exited
				exitGroup(uintptr((st >> 8) & 0xff))
			}
			exitGroup(uintptr(128 + st&0x7f))
		}
	}
}

// startChild clones the child with flags from the calling (locked)
// thread. All signals are blocked on the thread around the clone, so the
// child starts with none delivered to Go's handlers.
//
//go:norace
func startChild(pl *plan, flags uintptr) (int, syscall.Errno) {
	all := ^uint64(0)
	var old uint64
	syscall.ForkLock.Lock()
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	pl.tail.mask = old
	pid, e := forkChild(pl, flags)
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
	syscall.ForkLock.Unlock()
	return pid, e
}

// forkChild starts the child:
//
//   - Without a PID namespace the child is the target: a vfork
//     (CLONE_VM|CLONE_VFORK), as the standard library's forkExec does,
//     without copying the launcher's address space (a Go process maps tens
//     of megabytes). It runs on this goroutine's stack, below this frame,
//     while this thread is suspended until its execve or exit; rawVfork
//     keeps the return address out of the stack the child overwrites.
//   - With one the child is the init, which never execs and outlives
//     this call: a plain fork, with an address space of its own. Sharing
//     the launcher's (CLONE_VM) would let a target that can ptrace its
//     init (CAP_SYS_PTRACE) write into leash itself, which runs
//     unconfined in the host's namespaces.
//
//go:noinline
//go:nosplit
//go:norace
func forkChild(pl *plan, flags uintptr) (int, syscall.Errno) {
	var pid, e uintptr
	if pl.pidns {
		var errno syscall.Errno
		pid, _, errno = syscall.RawSyscall6(unix.SYS_CLONE, flags|uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
		e = uintptr(errno)
	} else {
		pid, e = rawVfork(unix.SYS_CLONE, flags|unix.CLONE_VM|unix.CLONE_VFORK|uintptr(syscall.SIGCHLD), 0, 0)
	}
	if e != 0 {
		return 0, syscall.Errno(e)
	}
	if pid == 0 { // the vfork'd target, or the forked init
		childMain(pl)
	}
	return int(pid), 0
}

// rawVfork is a syscall that may return twice on one stack (clone with
// CLONE_VM|CLONE_VFORK); see vfork_linux_*.s.
func rawVfork(trap, a1, a2, a3 uintptr) (r1, err uintptr)
