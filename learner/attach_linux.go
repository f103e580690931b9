package learner

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/leash-project/leash/learner/trace"
	"github.com/leash-project/leash/profiles"
)

// rescanInterval is how often a watched cgroup's processes are listed, to
// find processes moved into it that neither forked from a tracked one nor
// exec'd there (the kernel picks up those).
const rescanInterval = 500 * time.Millisecond

// CheckTarget reports a --pid or --cgroup that cannot be attached to, as a
// *TargetError, before anything is loaded.
func CheckTarget(pid int, cgroup string) error {
	switch {
	case pid != 0 && cgroup != "":
		return &TargetError{Msg: "--pid and --cgroup do not go together"}
	case pid < 0:
		return &TargetError{Msg: fmt.Sprintf("--pid %d: not a process id", pid)}
	case pid > 0:
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			return &TargetError{Msg: fmt.Sprintf("--pid %d: no such process", pid)}
		}
		if pid == os.Getpid() {
			return &TargetError{Msg: fmt.Sprintf("--pid %d: that is leash itself", pid)}
		}
		if _, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); errors.Is(err, fs.ErrNotExist) {
			return &TargetError{Msg: fmt.Sprintf("--pid %d: a kernel thread (or exited): it makes no syscalls", pid)}
		}
	case cgroup != "":
		if _, err := trace.CgroupID(cgroup); err != nil {
			var msg string
			switch {
			case errors.Is(err, trace.ErrNotCgroup2):
				msg = "not a cgroup v2 directory (cgroup2 is mounted at /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts)"
			case errors.Is(err, fs.ErrNotExist):
				msg = "no such directory"
			default:
				msg = errors.Unwrap(err).Error()
			}
			return &TargetError{Msg: fmt.Sprintf("--cgroup %s: %s", cgroup, msg)}
		}
		if in, err := inCgroup(os.Getpid(), cgroup); err == nil && in {
			return &TargetError{Msg: fmt.Sprintf("--cgroup %s: leash itself runs in it; run leash from outside the cgroup", cgroup)}
		}
	default:
		return &TargetError{Msg: "nothing to attach to (--pid or --cgroup)"}
	}
	return nil
}

// inCgroup reports whether process pid is in the cgroup v2 directory dir
// or below it.
func inCgroup(pid int, dir string) (bool, error) {
	procs, err := trace.CgroupProcs(dir)
	if err != nil {
		return false, err
	}
	for _, p := range procs {
		if p == pid {
			return true, nil
		}
	}
	return false, nil
}

// attachState is one attached session's bookkeeping.
type attachState struct {
	cfg     AttachConfig
	sess    *trace.Session
	base    *profiles.Profile // Output as it was at the start, or nil
	started time.Time
	seen    map[procKey]bool // processes handled by a scan
	self    fileID

	cgroupID   uint64 // the watched cgroup's id now
	cgroupGone bool   // its directory is gone (the service stopped)

	command []string
	user    string
	late    []trace.Process // registered after they started
	rescued []trace.Process // of late: found by a rescan, not at attach
	sealed  []trace.Process // under seccomp

	// Of the last flush: this run's incompleteness, executables not hashed.
	incomplete  []string
	exeProblems []string
	handoffs    []profiles.Handoff
	hasher      *exeHasher
}

type procKey struct {
	pid   int
	start string // start time in clock ticks: tells a reused pid apart
}

type fileID struct{ dev, ino uint64 }

// Attach attaches a session to running processes (see AttachConfig) and
// writes the profile until the session ends.
func Attach(cfg AttachConfig) (*Result, error) {
	if err := CheckTarget(cfg.Pid, cfg.Cgroup); err != nil {
		return nil, err
	}
	if cfg.Warn == nil {
		cfg.Warn = io.Discard
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	a := &attachState{cfg: cfg, seen: map[procKey]bool{}, hasher: newExeHasher()}
	if err := a.loadBase(); err != nil {
		return nil, err
	}
	if id, err := statID("/proc/self/exe"); err == nil {
		a.self = id
	}

	var sigs chan os.Signal
	if cfg.Signals {
		sigs = make(chan os.Signal, 2)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
		defer signal.Stop(sigs)
	}

	sess, err := cfg.Tracer.NewSession()
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	a.sess = sess
	a.started = time.Now()

	if cfg.Cgroup != "" {
		// Watch first: a process that execs in the cgroup while it is
		// scanned is then tracked by the kernel, not missed.
		if err := sess.WatchCgroup(cfg.Cgroup); err != nil {
			return nil, err
		}
		if a.cgroupID, err = trace.CgroupID(cfg.Cgroup); err != nil {
			return nil, err
		}
		if err := a.scanCgroup(true); err != nil {
			return nil, err
		}
	} else {
		procs, err := sess.AttachTree(cfg.Pid, a.skip)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, &TargetError{Msg: fmt.Sprintf("--pid %d: no such process", cfg.Pid)}
			}
			return nil, err
		}
		for _, p := range procs {
			a.note(p, false)
		}
	}
	a.describeTarget()
	told := map[string]bool{}
	for _, msg := range a.notes() {
		fmt.Fprintf(cfg.Warn, "leash: note: %s\n", msg)
		told[msg] = true
	}
	if _, err := a.flush(); err != nil {
		return nil, err
	}
	if cfg.Ready != nil {
		cfg.Ready()
	}

	var deadline <-chan time.Time
	if cfg.Duration > 0 {
		timer := time.NewTimer(cfg.Duration - time.Since(a.started))
		defer timer.Stop()
		deadline = timer.C
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	flushTick := time.NewTicker(cfg.FlushInterval)
	defer flushTick.Stop()
	lastScan := time.Now()
	why := ""
loop:
	for {
		select {
		case s := <-sigs:
			why = "on " + s.String()
			break loop
		case <-deadline:
			why = "after --duration " + cfg.Duration.String()
			break loop
		case <-flushTick.C:
			if _, err := a.flush(); err != nil {
				fmt.Fprintf(cfg.Warn, "leash: %v (retrying at the next flush)\n", err)
			}
		case <-tick.C:
			_ = cfg.Tracer.Drain()
			if cfg.Cgroup != "" {
				if a.followCgroup() && time.Since(lastScan) >= rescanInterval {
					lastScan = time.Now()
					if err := a.scanCgroup(false); err != nil && !errors.Is(err, fs.ErrNotExist) {
						fmt.Fprintf(cfg.Warn, "leash: %v\n", err)
					}
				}
			} else if live, err := sess.Live(); err == nil && live == 0 {
				why = "the process tree exited"
				break loop
			}
			if cfg.Status != nil {
				if st, err := sess.Stats(); err == nil {
					fmt.Fprintf(cfg.Status, "\r\033[K%s", FormatStatus(time.Since(a.started), st))
				}
			}
		}
	}
	if cfg.Status != nil {
		fmt.Fprint(cfg.Status, "\r\033[K")
	}
	fmt.Fprintf(cfg.Warn, "leash: stopped recording %s\n", why)
	p, err := a.flush()
	if err != nil {
		return &Result{Profile: p}, err
	}
	for _, msg := range a.exeProblems {
		fmt.Fprintf(cfg.Warn, "leash: note: %s\n", msg)
	}
	for _, h := range a.handoffs {
		fmt.Fprintf(cfg.Warn, "leash: note: %s\n", HandoffNote(h))
	}
	for _, msg := range a.incomplete {
		if !told[msg] {
			fmt.Fprintf(cfg.Warn, "leash: incomplete: %s\n", msg)
		}
	}
	return &Result{Profile: p}, nil
}

// followCgroup keeps watching the cgroup's path when the cgroup is
// replaced: systemd removes a service's cgroup when it stops and creates a
// new one (a new id) when it starts again. It reports whether the cgroup
// exists now.
func (a *attachState) followCgroup() bool {
	id, err := trace.CgroupID(a.cfg.Cgroup)
	if err != nil {
		if !a.cgroupGone {
			a.cgroupGone = true
			fmt.Fprintf(a.cfg.Warn, "leash: cgroup %s is gone; waiting for it to come back\n", a.cfg.Cgroup)
		}
		return false
	}
	if id == a.cgroupID {
		return true
	}
	a.cgroupGone = false
	if err := a.sess.Unwatch(); err != nil {
		fmt.Fprintf(a.cfg.Warn, "leash: %v\n", err)
	}
	if err := a.sess.WatchCgroup(a.cfg.Cgroup); err != nil {
		fmt.Fprintf(a.cfg.Warn, "leash: %v\n", err)
		return false
	}
	a.cgroupID = id
	fmt.Fprintf(a.cfg.Warn, "leash: cgroup %s was created again; recording it\n", a.cfg.Cgroup)
	return true
}

// loadBase reads the profile Output already holds: this run merges into it.
func (a *attachState) loadBase() error {
	p, err := profiles.Load(a.cfg.Output)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &ProfileError{Err: fmt.Errorf("existing profile (this run merges into it): %w", err)}
	}
	if a.cfg.Component != "" && a.cfg.Component != p.Component {
		return &ProfileError{Err: fmt.Errorf("%s is the profile of component %q, not %q: write to another file or drop --component", a.cfg.Output, p.Component, a.cfg.Component)}
	}
	a.cfg.Component = p.Component
	a.base = p
	return nil
}

// skip leaves leash out, and every process running a leash binary with
// what runs below it: like a nested leash in launch mode, it and its
// subtree learn or run on their own.
func (a *attachState) skip(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	id, err := statID(fmt.Sprintf("/proc/%d/exe", pid))
	return err == nil && a.self != (fileID{}) && id == a.self
}

// underLeash reports whether pid or one of its ancestors is skipped.
func (a *attachState) underLeash(pid int) bool {
	for i := 0; i < 64 && pid > 1; i++ {
		if a.skip(pid) {
			return true
		}
		pp, _, err := parentAndStart(pid)
		if err != nil {
			return false
		}
		pid = pp
	}
	return false
}

// scanCgroup registers the processes of the watched cgroup that the
// session does not track yet.
func (a *attachState) scanCgroup(first bool) error {
	procs, err := trace.CgroupProcs(a.cfg.Cgroup)
	if err != nil {
		return err
	}
	for _, pid := range procs {
		_, start, err := parentAndStart(pid)
		if err != nil {
			continue // gone
		}
		k := procKey{pid, start}
		if a.seen[k] {
			continue
		}
		a.seen[k] = true
		if a.underLeash(pid) {
			continue
		}
		p, added, err := a.sess.AttachProcess(pid)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
		if added || first {
			a.note(p, !first)
		} else if p.Seccomp != 0 {
			a.note(p, false)
		}
	}
	return nil
}

// note remembers what a reviewer must know about a registered process.
func (a *attachState) note(p trace.Process, rescan bool) {
	if p.Late {
		a.late = append(a.late, p)
		if rescan {
			a.rescued = append(a.rescued, p)
		}
	}
	if p.Seccomp != 0 {
		for _, q := range a.sealed {
			if q.Pid == p.Pid {
				return
			}
		}
		a.sealed = append(a.sealed, p)
	}
}

// describeTarget fills the run's command and user from the target.
func (a *attachState) describeTarget() {
	pid := a.cfg.Pid
	if pid == 0 && len(a.late) > 0 {
		pid = a.late[0].Pid
	}
	if pid != 0 {
		a.command = cmdline(pid)
		a.user = procUser(pid)
	}
	if a.cfg.Component == "" {
		switch {
		case a.cfg.Cgroup != "":
			a.cfg.Component = strings.TrimSuffix(filepath.Base(filepath.Clean(a.cfg.Cgroup)), ".service")
		case len(a.late) > 0 && a.late[0].Exe != "":
			a.cfg.Component = filepath.Base(strings.TrimSuffix(a.late[0].Exe, " (deleted)"))
		case len(a.late) > 0:
			a.cfg.Component = a.late[0].Comm
		default:
			a.cfg.Component = strconv.Itoa(a.cfg.Pid)
		}
	}
}

// notes are the provenance notes of this run: what tracking may have
// missed because it began after the processes did.
func (a *attachState) notes() []string {
	var out []string
	when := a.started.UTC().Format(time.RFC3339)
	switch {
	case a.cfg.Pid != 0:
		tree := ""
		if n := len(a.late) - 1; n > 0 {
			tree = fmt.Sprintf(" and %s of its tree", plural(n, "process", "processes"))
		}
		out = append(out, fmt.Sprintf("attached to running pid %d (%s)%s at %s: what they did before, their start-up included, is not recorded",
			a.cfg.Pid, commOf(a.late, a.cfg.Pid), tree, when))
	case len(a.late) > len(a.rescued):
		n := len(a.late) - len(a.rescued)
		out = append(out, fmt.Sprintf("attached to cgroup %s at %s with %s already running (%s): what they did before is not recorded",
			a.cfg.Cgroup, when, plural(n, "process", "processes"), listProcs(a.late[:n])))
	default:
		out = append(out, fmt.Sprintf("attached to cgroup %s at %s", a.cfg.Cgroup, when))
	}
	if len(a.rescued) > 0 {
		out = append(out, fmt.Sprintf("%s found by a rescan of cgroup %s, up to %s after entering it without exec (%s): what they did before is not recorded",
			plural(len(a.rescued), "process", "processes"), a.cfg.Cgroup, rescanInterval, listProcs(a.rescued)))
	}
	if len(a.sealed) > 0 {
		out = append(out, fmt.Sprintf("%s already ran under seccomp (%s): syscalls a filter rejects never reach leash's hook and are not recorded",
			plural(len(a.sealed), "process", "processes"), listProcs(a.sealed)))
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func commOf(ps []trace.Process, pid int) string {
	for _, p := range ps {
		if p.Pid == pid {
			return p.Comm
		}
	}
	return "?"
}

// listProcs names up to five processes.
func listProcs(ps []trace.Process) string {
	var b strings.Builder
	for i, p := range ps {
		if i == 5 {
			fmt.Fprintf(&b, ", and %d more", len(ps)-5)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "pid %d %s", p.Pid, p.Comm)
		if p.Seccomp == 1 {
			b.WriteString(" seccomp strict")
		} else if p.Seccomp == 2 {
			b.WriteString(" seccomp filter")
		}
	}
	return b.String()
}

// flush writes what the session recorded so far, merged into the profile
// Output held at the start, atomically.
func (a *attachState) flush() (*profiles.Profile, error) {
	obs, err := a.sess.Observations()
	if err != nil {
		return nil, err
	}
	exes, problems, exeIncomplete := a.hasher.hashAll(obs.ExeFiles)
	incomplete := a.notes()
	if !a.cfg.Tracer.CapabilitiesRecorded() {
		incomplete = append(incomplete, "capability checks were not recorded: no capability hook loads on this kernel")
	}
	// An unhashable executable is still named in its syscalls: a note,
	// not an incompleteness (as in launch mode); one that changed or went
	// away after it ran lost its digest: an incompleteness.
	incomplete = append(incomplete, exeIncomplete...)
	a.exeProblems = problems
	host, _ := os.Hostname()
	p := Build(obs, RunInfo{
		Component:   a.cfg.Component,
		Command:     a.command,
		User:        a.user,
		Host:        host,
		Kernel:      kernelRelease(),
		Leash:       a.cfg.Leash,
		Started:     a.started,
		Duration:    time.Since(a.started),
		Methods:     a.cfg.Tracer.Methods(),
		Incomplete:  incomplete,
		Executables: exes,
	})
	a.incomplete = p.Provenance.Runs[0].Incomplete
	a.handoffs = p.Provenance.Runs[0].Handoffs
	if a.base != nil {
		p, err = profiles.Merge(a.base, p)
		if err != nil {
			return nil, &ProfileError{Err: fmt.Errorf("merge into %s: %w", a.cfg.Output, err)}
		}
	}
	if err := profiles.Save(a.cfg.Output, p); err != nil {
		return p, fmt.Errorf("write profile: %w", err)
	}
	return p, nil
}

func statID(path string) (fileID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return fileID{}, err
	}
	return fileID{dev: st.Dev, ino: st.Ino}, nil
}

// parentAndStart reads the parent pid and start time of pid.
func parentAndStart(pid int) (int, string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", err
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, "", fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, "", fmt.Errorf("parse /proc/%d/stat", pid)
	}
	pp, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, "", fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return pp, f[19], nil
}

func cmdline(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// procUser names the real user of pid.
func procUser(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				return ""
			}
			if u, err := user.LookupId(f[0]); err == nil {
				return u.Username
			}
			return f[0]
		}
	}
	return ""
}
