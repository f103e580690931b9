package learner

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/leash-project/leash/internal/reexec"
	"github.com/leash-project/leash/profiles"
)

// StubRole is the re-exec role of the learn stub: a copy of leash that
// drops to the training user, waits on a pipe until its pid is tracked,
// and then execs the command. Its arguments: UID GID GROUPS PATH ARGV...
// ("-" for UID keeps the identity; GROUPS is comma-separated).
const StubRole = "__leash-learn-stub"

// The stub's pipes: it reads one byte from stubRelease before exec, and
// writes one to stubReady once it runs.
const (
	stubRelease = 3
	stubReady   = 4
)

func init() { reexec.Register(StubRole, stubMain) }

type identity struct {
	name           string
	uid, gid       string
	groups         string
	changeIdentity bool
}

func lookupIdentity(name string) (identity, error) {
	if name == "" {
		u, err := user.Current()
		if err != nil {
			return identity{name: strconv.Itoa(os.Getuid()), uid: "-", gid: "-", groups: "-"}, nil
		}
		return identity{name: u.Username, uid: "-", gid: "-", groups: "-"}, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		var uerr error
		u, uerr = user.LookupId(name)
		if uerr != nil {
			return identity{}, &UserError{Name: name, Err: err}
		}
	}
	groups, err := u.GroupIds()
	if err != nil {
		groups = []string{u.Gid}
	}
	return identity{name: u.Username, uid: u.Uid, gid: u.Gid, groups: strings.Join(groups, ","), changeIdentity: true}, nil
}

// Learn runs one session to the end and writes the profile. It returns an
// error only when it could not learn at all; CMD failing is an exit code.
func Learn(cfg Config) (*Result, error) {
	if len(cfg.Command) == 0 {
		return nil, errors.New("learn: no command")
	}
	if cfg.Warn == nil {
		cfg.Warn = io.Discard
	}
	if cfg.Component == "" {
		cfg.Component = filepath.Base(cfg.Command[0])
	}
	path, err := exec.LookPath(cfg.Command[0])
	if err != nil {
		return nil, &NotFoundError{Name: cfg.Command[0], Err: err}
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	id, err := lookupIdentity(cfg.User)
	if err != nil {
		return nil, err
	}
	if cfg.Ready != nil {
		cfg.Ready() // the input is good: the command starts now
	}
	if _, err := buildinfo.ReadFile(path); err == nil {
		fmt.Fprintf(cfg.Warn, "leash: %s is a Go program: consider adding the go-runtime widening (widen: [go-runtime]) so runtime syscalls a short run misses are allowed\n", path)
	}

	sess, err := cfg.Tracer.NewSession()
	if err != nil {
		return nil, err
	}
	defer sess.Close()

	// Catch the signals before anything starts, so leash is never killed
	// by one before the profile is written.
	var sigs chan os.Signal
	if cfg.ForwardSignals {
		sigs = make(chan os.Signal, 4)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
		defer signal.Stop(sigs)
	}

	// Two pipes make the start race-free by construction. The stub says
	// "ready" once it runs, which is after the kernel saw its own execve
	// (of leash): tracking its tgid before that would track the stub
	// itself. Then leash tracks it and releases it, and its next execve,
	// of CMD, is the first thing recorded.
	rd, wr, err := os.Pipe()
	if err != nil {
		return nil, &LaunchError{Err: fmt.Errorf("create stub pipe: %w", err)}
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		rd.Close()
		wr.Close()
		return nil, &LaunchError{Err: fmt.Errorf("create stub pipe: %w", err)}
	}
	args := append([]string{StubRole, id.uid, id.gid, id.groups, path}, cfg.Command...)
	cmd := exec.Command(reexec.Self, args...)
	cmd.Args[0] = "leash"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = cfg.Stdin, cfg.Stdout, cfg.Stderr
	cmd.ExtraFiles = []*os.File{rd, readyW}
	err = cmd.Start()
	rd.Close()
	readyW.Close()
	if err != nil {
		wr.Close()
		readyR.Close()
		return nil, &LaunchError{Err: fmt.Errorf("start learn stub: %w", err)}
	}
	var ready [1]byte
	_, err = io.ReadFull(readyR, ready[:])
	readyR.Close()
	if err != nil {
		wr.Close()
		cmd.Wait()
		return nil, &LaunchError{Err: fmt.Errorf("start learn stub: it exited before it was ready")}
	}
	if err := sess.Track(cmd.Process.Pid); err != nil {
		wr.Close() // the stub exits without exec
		cmd.Wait()
		return nil, err
	}
	started := time.Now()
	if _, err := wr.Write([]byte{1}); err != nil {
		wr.Close()
		cmd.Process.Kill()
		cmd.Wait()
		sess.Untrack(cmd.Process.Pid)
		return nil, &LaunchError{Err: fmt.Errorf("release learn stub: %w", err)}
	}
	wr.Close()

	var wg sync.WaitGroup
	done := make(chan struct{})
	// interrupted closes on the first forwarded signal: the user wants
	// out, so learning does not linger for leftover processes.
	interrupted := make(chan struct{})
	var interruptOnce sync.Once
	if sigs != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case s := <-sigs:
					_ = cmd.Process.Signal(s)
					interruptOnce.Do(func() { close(interrupted) })
				case <-done:
					return
				}
			}
		}()
	}
	hasher := newExeHasher()
	status := func() {}
	if cfg.Status != nil {
		status = func() {
			st, err := sess.Stats()
			if err == nil {
				fmt.Fprintf(cfg.Status, "\r\033[K%s", FormatStatus(time.Since(started), st))
			}
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				_ = cfg.Tracer.Drain()
				// Hash what ran while it is most likely still there.
				if files, err := sess.ExeFiles(); err == nil {
					hasher.early(files)
				}
				status()
			case <-done:
				return
			}
		}
	}()

	waitErr := cmd.Wait()
	exitCode := exitStatus(cmd.ProcessState, waitErr)

	// Daemonised children may outlive CMD: keep recording until the
	// session is empty, bounded by Linger.
	deadline := time.Now().Add(cfg.Linger)
linger:
	for {
		live, err := sess.Live()
		if err != nil || live == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-interrupted:
			break linger
		case <-time.After(20 * time.Millisecond):
		}
	}
	close(done)
	wg.Wait()
	if cfg.Status != nil {
		fmt.Fprint(cfg.Status, "\r\033[K")
	}
	duration := time.Since(started)

	obs, err := sess.Observations()
	if err != nil {
		return nil, err
	}
	var incomplete []string
	if obs.Live > 0 {
		msg := fmt.Sprintf("%d tasks still running %s after the command exited; recording stopped there", obs.Live, cfg.Linger)
		incomplete = append(incomplete, msg)
	}
	if !cfg.Tracer.CapabilitiesRecorded() {
		incomplete = append(incomplete, "capability checks were not recorded: no capability hook loads on this kernel")
	}
	if obs.Processes == 0 {
		incomplete = append(incomplete, "the command never started: nothing was recorded")
	}
	// An executable that cannot be hashed (a path longer than PATH_MAX,
	// or unreadable) is still named in the syscalls it made; the
	// recording is complete, only its hash is missing, so this is a note.
	// One that changed or went away since it ran has no digest either,
	// and the run is incomplete: its digest is lost (see exeHasher).
	exes, exeNotes, exeIncomplete := hasher.hashAll(obs.ExeFiles)
	for _, msg := range exeNotes {
		fmt.Fprintf(cfg.Warn, "leash: note: %s\n", msg)
	}
	incomplete = append(incomplete, exeIncomplete...)

	host, _ := os.Hostname()
	p := Build(obs, RunInfo{
		Component:   cfg.Component,
		Command:     cfg.Command,
		User:        id.name,
		Host:        host,
		Kernel:      kernelRelease(),
		Leash:       cfg.Leash,
		Started:     started,
		Duration:    duration,
		ExitCode:    exitCode,
		Methods:     cfg.Tracer.Methods(),
		Incomplete:  incomplete,
		Executables: exes,
	})
	for _, h := range p.Provenance.Runs[0].Handoffs {
		fmt.Fprintf(cfg.Warn, "leash: note: %s\n", HandoffNote(h))
	}
	for _, msg := range p.Provenance.Runs[0].Incomplete {
		fmt.Fprintf(cfg.Warn, "leash: incomplete: %s\n", msg)
	}
	if err := profiles.Save(cfg.Output, p); err != nil {
		return &Result{ExitCode: exitCode, Profile: p}, fmt.Errorf("write profile: %w", err)
	}
	return &Result{ExitCode: exitCode, Profile: p}, nil
}

func exitStatus(ps *os.ProcessState, err error) int {
	if ps == nil {
		return 125
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

func kernelRelease() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "unknown"
	}
	var b []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// stubMain is the learn stub: drop to the training user, wait for the
// parent to track this pid, then exec the command. Nothing it does is
// recorded: tracking starts at its execve.
func stubMain() {
	a := os.Args[2:]
	if len(a) < 5 {
		fmt.Fprintln(os.Stderr, "leash: learn stub: bad arguments")
		os.Exit(125)
	}
	uid, gid, groups, path, argv := a[0], a[1], a[2], a[3], a[4:]
	if uid != "-" {
		if err := dropTo(uid, gid, groups); err != nil {
			fmt.Fprintf(os.Stderr, "leash: run as user %s: %v\n", uid, err)
			os.Exit(125)
		}
	}
	ready := os.NewFile(stubReady, "ready")
	if _, err := ready.Write([]byte{1}); err != nil {
		os.Exit(125)
	}
	ready.Close()
	release := os.NewFile(stubRelease, "release")
	var b [1]byte
	if n, _ := release.Read(b[:]); n != 1 {
		os.Exit(125) // leash gave up before releasing us
	}
	release.Close()
	err := syscall.Exec(path, argv, os.Environ())
	fmt.Fprintf(os.Stderr, "leash: exec %s: %v\n", path, err)
	if errors.Is(err, syscall.ENOENT) {
		os.Exit(127)
	}
	os.Exit(126)
}

func dropTo(uid, gid, groups string) error {
	u, err := strconv.Atoi(uid)
	if err != nil {
		return err
	}
	g, err := strconv.Atoi(gid)
	if err != nil {
		return err
	}
	var gs []int
	for _, s := range strings.Split(groups, ",") {
		if s == "" || s == "-" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		gs = append(gs, n)
	}
	if err := syscall.Setgroups(gs); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setresgid(g, g, g); err != nil {
		return fmt.Errorf("setresgid: %w", err)
	}
	if err := syscall.Setresuid(u, u, u); err != nil {
		return fmt.Errorf("setresuid: %w", err)
	}
	return nil
}
