package launch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Options say how the launcher starts the child. The target inherits
// leash's standard input, output and error.
type Options struct {
	// NoNewSession keeps the target in leash's session (and so with its
	// controlling terminal, if any).
	NoNewSession bool
	// Log collects the kernel's seccomp records of the run; nil: none.
	Log *KernelLog
	// Signals, from CatchSignals, are caught already; the caller releases
	// them. nil: Run catches them itself and releases them when it
	// returns.
	Signals *Signals
}

// Signals holds the Forwarded signals for Run to pass on to the target.
// Catching them costs the Go runtime a round trip between two threads per
// signal (os/signal keeps a thread whose mask it updates), so leash run
// starts it first, in the background, where it overlaps loading the
// profile and compiling the filter; Run waits for it before it starts the
// child, so no signal is ever lost to leash's default action.
//
// The goroutine that catches them also forwards them: Run only names the
// target (attach) once it runs. Nothing is started or woken after the
// clone, when a second runnable goroutine would make the scheduler wake
// another thread on the CPU the new child needs.
//
// When the target leads a process group of its own (it started a new
// session), they go to the whole group, as a terminal's ^C goes to a
// whole job: otherwise a shell killed by SIGTERM would leave the command
// it was waiting for running, re-parented to pid 1 and still holding
// leash's standard output.
type Signals struct {
	ch    chan os.Signal
	ready chan struct{}
	stop  chan struct{}

	mu      sync.Mutex
	pid     int              // the child to forward to; 0: none yet
	group   bool             // forward to pid's process group (kill(-pid))
	pending []syscall.Signal // caught while there was no child
}

// CatchSignals starts catching the Forwarded signals in the background.
// Those that arrive before Run starts the child are passed on as soon as
// it runs.
func CatchSignals() *Signals {
	s := &Signals{ch: make(chan os.Signal, 16), ready: make(chan struct{}), stop: make(chan struct{})}
	go func() {
		signal.Notify(s.ch, Forwarded...)
		close(s.ready)
		for {
			select {
			case sig := <-s.ch:
				s.forward(sig.(syscall.Signal))
			case <-s.stop:
				return
			}
		}
	}()
	return s
}

func (s *Signals) forward(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pid == 0 {
		s.pending = append(s.pending, sig)
		return
	}
	s.kill(sig)
}

// kill sends sig to the child, or to its process group. Call it with mu
// held.
func (s *Signals) kill(sig syscall.Signal) {
	if s.group {
		syscall.Kill(-s.pid, sig)
		return
	}
	syscall.Kill(s.pid, sig)
}

// attach makes pid (its process group when group is set) the target of
// the signals, and passes on those caught so far; attach(0, false) stops
// forwarding (the child is about to be reaped: its pid, and so the id of
// its group, may then be reused).
func (s *Signals) attach(pid int, group bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pid, s.group = pid, group
	if pid == 0 {
		return
	}
	for _, sig := range s.pending {
		s.kill(sig)
	}
	s.pending = nil
}

// Release gives the Forwarded signals their default actions back.
func (s *Signals) Release() {
	<-s.ready
	signal.Reset(Forwarded...)
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
}

// Result is how a launch ended.
type Result struct {
	// Code is the exit code leash should exit with: the target's status
	// (128+N when signal N killed it), 126/127 when exec failed, 125 when
	// leash could not set up the confinement.
	Code int
	// Err says why the target did not run; nil when it did.
	Err error
	// PID is the pid (in leash's namespace) of the child: the target
	// itself, or its init when the target has a PID namespace.
	PID int
	// Session is the run's audit session id; 0 when none.
	Session uint32
}

// ErrSetup marks a failure of the child before execve.
var ErrSetup = errors.New("set up confinement")

var cloneFlags = map[string]uintptr{
	"pid": syscall.CLONE_NEWPID, "ipc": syscall.CLONE_NEWIPC, "uts": syscall.CLONE_NEWUTS,
	"mnt": syscall.CLONE_NEWNS, "net": syscall.CLONE_NEWNET,
}

// Forwarded are the signals the launcher and the init pass on to the
// target (to its process group in a new session; see Signals).
var Forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// Run starts the child (see the package documentation), waits for it and
// returns how it ended. It forwards the Forwarded signals while it runs
// (see Options.Signals for who releases them). The error is for failures
// to start the child at all; everything after that is in Result.
func Run(s *Spec, opts Options) (*Result, error) {
	// The child is a fork of this thread, and its parent-death signal
	// fires when this thread ends: keep it for the whole run.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	var flags uintptr
	for _, ns := range s.Namespaces {
		f, ok := cloneFlags[ns]
		if !ok {
			return nil, fmt.Errorf("leash run cannot create a %q namespace", ns)
		}
		flags |= f
	}
	for _, fd := range s.KeepFDs {
		if fd < 3 {
			return nil, fmt.Errorf("keep descriptor %d: 0, 1 and 2 are always kept", fd)
		}
		if _, err := fcntlGetfd(fd); err != nil {
			return nil, fmt.Errorf("keep descriptor %d: %w", fd, err)
		}
	}
	s.AuditSession = opts.Log != nil && os.Geteuid() == 0

	// A blocking pipe read on this thread: one wake-up when the target
	// execs, not a trip through Go's poller.
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("create pipe: %w", err)
	}
	repR, repW := p[0], p[1]
	defer syscall.Close(repR)
	closeW := func() {
		if repW >= 0 {
			syscall.Close(repW)
			repW = -1
		}
	}
	defer closeW()
	pl, err := newPlan(s, repR, repW, !opts.NoNewSession)
	if err != nil {
		return nil, err
	}

	sigs := opts.Signals
	if sigs == nil {
		// Reset, not Stop, when Run returns: Stop waits for the signal
		// loop to go idle, a scheduling round trip at every exit.
		sigs = CatchSignals()
		defer sigs.Release()
	}
	<-sigs.ready
	if opts.Log != nil {
		opts.Log.Mark()
	}
	pid, errno := startChild(pl, flags)
	if errno == syscall.EPERM && flags != 0 && os.Geteuid() != 0 {
		return nil, fmt.Errorf("start confined child: creating namespaces (%s) needs root: %w", strings.Join(s.Namespaces, ", "), errno)
	}
	if errno != 0 {
		return nil, fmt.Errorf("start confined child: clone: %w", errno)
	}
	closeW()
	res := &Result{PID: pid}
	// With a new session and no PID namespace the child is the target
	// and leads its own process group (setsid, before this vfork
	// returned): the group gets the signals. With a PID namespace the
	// child is the init, which leads the session; it passes them on to
	// the target's group itself (initLoop).
	sigs.attach(pid, pl.newSession && !pl.pidns)
	var msgs []byte
	buf := make([]byte, 512)
	for {
		n, err := syscall.Read(repR, buf)
		if err == syscall.EINTR {
			continue
		}
		if n <= 0 {
			break
		}
		msgs = append(msgs, buf[:n]...)
	}
	// Wait for the child to exit without reaping it (WNOWAIT): until it
	// is reaped its pid cannot be reused, and neither can the id of its
	// process group, so a signal caught meanwhile still reaches what is
	// left of the group.
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			sigs.attach(0, false)
			return nil, fmt.Errorf("wait for confined child: %w", err)
		}
		break
	}
	sigs.attach(0, false)
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reap confined child: %w", err)
		}
		break
	}
	runtime.KeepAlive(pl) // the raw pointers the child used point into it
	res.Code = ws.ExitStatus()
	if ws.Signaled() {
		res.Code = 128 + int(ws.Signal())
	}
	res.Err, res.Session = parseReport(msgs, s, pl)
	var ee *ExecError
	switch {
	case res.Err == nil:
	case errors.As(res.Err, &ee):
		res.Code = ee.Code()
	default:
		res.Code = 125
	}
	return res, nil
}

// parseReport reads the child's messages: the audit session, and why it
// failed, if it did.
func parseReport(b []byte, s *Spec, pl *plan) (err error, session uint32) {
	short := fmt.Errorf("%w: short report from the child", ErrSetup)
	for len(b) > 0 {
		switch b[0] {
		case tagSession:
			if len(b) < 2 || len(b) < 2+int(b[1]) {
				return short, session
			}
			if n, err := strconv.ParseUint(strings.TrimSpace(string(b[2:2+int(b[1])])), 10, 32); err == nil && n != 4294967295 {
				session = uint32(n)
			}
			b = b[2+int(b[1]):]
		case tagAlive:
			b = b[1:]
		case tagChanged:
			return &ExecError{Path: s.Path, Why: "not the file whose sha256 leash checked: it was replaced or changed since; refusing to run it"}, session
		case tagExec, tagSeccomp:
			if len(b) < 5 {
				return short, session
			}
			errno := syscall.Errno(binary.LittleEndian.Uint32(b[1:5]))
			if b[0] == tagSeccomp {
				return fmt.Errorf("%w: install seccomp filter: %v", ErrSetup, errno), session
			}
			return &ExecError{Path: s.Path, Errno: errno, Why: explainExec(s.Path, errno, s.UID)}, session
		case tagOp:
			if len(b) < 9 {
				return short, session
			}
			idx := binary.LittleEndian.Uint32(b[1:5])
			errno := syscall.Errno(binary.LittleEndian.Uint32(b[5:9]))
			what := "set up"
			if int(idx) < len(pl.what) {
				what = pl.what[idx]
			}
			return fmt.Errorf("%w: %s: %v", ErrSetup, what, errno), session
		default:
			return fmt.Errorf("%w: unreadable report from the child", ErrSetup), session
		}
	}
	return nil, session
}

func fcntlGetfd(fd int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
