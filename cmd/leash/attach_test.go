package main

// Integration tests of `leash learn --pid` and `--cgroup`: leash attaches
// to testdata/learn/attach.c while it runs, the test drives the program
// one step at a time over a pipe (each step answers "done"), and the
// profile must hold what the program did after the attach, from every
// place (threads and children started later, processes entering the
// cgroup), and nothing from before it or from outside. They need root and
// BPF; in CI (LEASH_REQUIRE_PRIVILEGED=1) they fail instead of skipping.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leash-project/leash/internal/testutil"
	"github.com/leash-project/leash/profiles"
)

// stepTimeout bounds every wait of these tests.
const stepTimeout = time.Minute

// driven is a running attach program that answers each command line.
type driven struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

// startDriven starts path with args, waits for "ready" and returns it; the
// process is killed and reaped when the test ends.
func startDriven(t *testing.T, path string, args ...string) *driven {
	t.Helper()
	cmd := exec.Command(path, args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &driven{cmd: cmd, in: in, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			d.lines <- sc.Text()
		}
		close(d.lines)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	d.expect(t, "ready")
	return d
}

func (d *driven) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case line, ok := <-d.lines:
		if !ok {
			t.Fatalf("pid %d exited instead of saying %q", d.cmd.Process.Pid, want)
		}
		if line != want {
			t.Fatalf("pid %d said %q, want %q", d.cmd.Process.Pid, line, want)
		}
	case <-time.After(stepTimeout):
		t.Fatalf("pid %d did not say %q within %v", d.cmd.Process.Pid, want, stepTimeout)
	}
}

// do runs the program's steps (one letter each) and waits for each.
func (d *driven) do(t *testing.T, steps string) {
	t.Helper()
	for _, c := range steps {
		if _, err := fmt.Fprintf(d.in, "%c\n", c); err != nil {
			t.Fatal(err)
		}
		d.expect(t, "done")
	}
}

// quit makes the program exit 0 and reaps it.
func (d *driven) quit(t *testing.T) {
	t.Helper()
	fmt.Fprintln(d.in, "q")
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("attach program: %v", err)
		}
	case <-time.After(stepTimeout):
		t.Fatalf("attach program did not exit within %v of q", stepTimeout)
	}
}

// bgLeash is a leash running in the background.
type bgLeash struct {
	cmd       *exec.Cmd
	mu        sync.Mutex
	stderr    bytes.Buffer
	recording chan struct{}
	exited    chan struct{}
	changed   chan struct{} // a line was added to stderr
}

// startLeash starts leash with args; it is killed when the test ends.
func startLeash(t *testing.T, args ...string) *bgLeash {
	t.Helper()
	l := &bgLeash{cmd: exec.Command(leashBin(t), args...), recording: make(chan struct{}), exited: make(chan struct{}), changed: make(chan struct{}, 1)}
	errp, err := l.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(errp)
		once := sync.Once{}
		for sc.Scan() {
			l.mu.Lock()
			l.stderr.WriteString(sc.Text() + "\n")
			l.mu.Unlock()
			select {
			case l.changed <- struct{}{}:
			default:
			}
			if strings.HasPrefix(sc.Text(), "leash: recording") {
				once.Do(func() { close(l.recording) })
			}
		}
		l.cmd.Wait()
		close(l.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-l.exited:
		default:
			l.cmd.Process.Kill()
			<-l.exited
		}
	})
	return l
}

func (l *bgLeash) stderrText() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stderr.String()
}

// waitRecording waits until leash has registered what runs and written the
// first profile.
func (l *bgLeash) waitRecording(t *testing.T) {
	t.Helper()
	select {
	case <-l.recording:
	case <-l.exited:
		t.Fatalf("leash exited (%v) before recording; stderr:\n%s", l.cmd.ProcessState, l.stderrText())
	case <-time.After(stepTimeout):
		t.Fatalf("leash not recording within %v; stderr:\n%s", stepTimeout, l.stderrText())
	}
}

// waitFor waits until leash has written sub to stderr.
func (l *bgLeash) waitFor(t *testing.T, sub string) {
	t.Helper()
	timeout := time.After(stepTimeout)
	for !strings.Contains(l.stderrText(), sub) {
		select {
		case <-l.changed:
		case <-l.exited:
			if !strings.Contains(l.stderrText(), sub) {
				t.Fatalf("leash exited without saying %q; stderr:\n%s", sub, l.stderrText())
			}
		case <-timeout:
			t.Fatalf("leash did not say %q within %v; stderr:\n%s", sub, stepTimeout, l.stderrText())
		}
	}
}

// wait waits for leash to exit and returns how it ended.
func (l *bgLeash) wait(t *testing.T) leashResult {
	t.Helper()
	select {
	case <-l.exited:
	case <-time.After(stepTimeout):
		t.Fatalf("leash did not exit within %v; stderr:\n%s", stepTimeout, l.stderrText())
	}
	return leashResult{Stderr: l.stderrText(), Code: exitStatus(l.cmd.ProcessState)}
}

// syscallsOf lists a profile's x86_64 syscalls, for messages.
func syscallsOf(p *profiles.Profile) []string {
	return slices.Sorted(maps.Keys(p.Syscalls["x86_64"]))
}

// checkSyscalls fails unless p has each of want and none of absent.
func checkSyscalls(t *testing.T, p *profiles.Profile, want, absent []string) {
	t.Helper()
	for _, name := range want {
		if _, ok := p.Syscalls["x86_64"][name]; !ok {
			t.Errorf("syscall %s missing; syscalls: %v", name, syscallsOf(p))
		}
	}
	for _, name := range absent {
		if by, ok := p.Syscalls["x86_64"][name]; ok {
			t.Errorf("syscall %s (by %s) in the profile; it was made before the attach or outside the target", name, by)
		}
	}
}

// hasNote reports whether a run's incomplete notes mention sub.
func hasNote(r profiles.Run, sub string) bool {
	for _, n := range r.Incomplete {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

// TestLearnAttachPid: leash attached to a running program records what it
// does afterwards, in its main thread, a thread and a child (and the
// child's exec) it starts after the attach, and nothing from before; it
// stops when the tree exits; the run says tracking began late, and that
// the program already ran under seccomp when it did.
func TestLearnAttachPid(t *testing.T) {
	testutil.RequireRoot(t)
	prog := compileC(t, "attach", []string{filepath.Join(learnData, "attach.c")}, "-pthread")
	tests := []struct {
		name    string
		args    []string
		seccomp bool
	}{
		{name: "Plain"},
		{name: "UnderSeccomp", args: []string{"seccomp"}, seccomp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "attach.yaml")
			d := startDriven(t, prog, tt.args...)
			pid := d.cmd.Process.Pid
			l := startLeash(t, "learn", "-o", out, "--pid", strconv.Itoa(pid))
			l.waitRecording(t)
			d.do(t, "stc")
			d.quit(t)
			res := l.wait(t) // the tree exited: leash stops by itself
			if res.Code != 0 {
				t.Fatalf("leash exit %d, want 0\nstderr:\n%s", res.Code, res.Stderr)
			}
			p := loadProfile(t, out, res)
			checkSyscalls(t, p,
				[]string{"sched_get_priority_max", "sched_get_priority_min", "getitimer", "clone", "wait4", "execve", "exit_group"},
				[]string{"sched_rr_get_interval", "bpf", "perf_event_open"})
			if p.Component != "attach" {
				t.Errorf("component %q, want attach (the process's executable)", p.Component)
			}
			if by := p.Syscalls["x86_64"]["sched_get_priority_max"]; !namesExe(by, prog) {
				t.Errorf("sched_get_priority_max by %q, want %s (from /proc/%d/exe)", by, prog, pid)
			}
			var exes []string
			for _, e := range p.Provenance.Executables {
				exes = append(exes, e.Path)
			}
			for _, want := range []string{prog, "/bin/true"} {
				if !slices.Contains(exes, want) {
					t.Errorf("executables %v lack %s", exes, want)
				}
			}
			run := p.Provenance.Runs[0]
			if !hasNote(run, fmt.Sprintf("attached to running pid %d", pid)) {
				t.Errorf("run does not say tracking began late: %q", run.Incomplete)
			}
			if got := hasNote(run, "seccomp"); got != tt.seccomp {
				t.Errorf("seccomp noted: %v, want %v; notes: %q", got, tt.seccomp, run.Incomplete)
			}
			if run.Processes != 2 {
				t.Errorf("processes %d, want 2 (the program and its child)", run.Processes)
			}
			if !strings.Contains(res.Stderr, "attached to running pid") {
				t.Errorf("stderr does not tell the user the attach came late:\n%s", res.Stderr)
			}
		})
	}
}

// TestLearnAttachRestart: leash killed with SIGKILL mid-run loses nothing
// it flushed; a restarted leash merges into the same profile, which then
// holds both runs and everything either saw.
func TestLearnAttachRestart(t *testing.T) {
	testutil.RequireRoot(t)
	prog := compileC(t, "attach", []string{filepath.Join(learnData, "attach.c")}, "-pthread")
	dir := t.TempDir()
	out := filepath.Join(dir, "svc.yaml")
	d := startDriven(t, prog)
	pid := strconv.Itoa(d.cmd.Process.Pid)

	first := startLeash(t, "learn", "-o", out, "--component", "svc", "--pid", pid, "--flush-interval", "100ms")
	first.waitRecording(t)
	d.do(t, "s")
	// The flush is only visible in the file: wait for it, bounded.
	deadline := time.Now().Add(stepTimeout)
	for {
		p, err := profiles.Load(out)
		if err == nil {
			if _, ok := p.Syscalls["x86_64"]["sched_get_priority_max"]; ok {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no flush with sched_get_priority_max within %v (%v); stderr:\n%s", stepTimeout, err, first.stderrText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if res := first.wait(t); res.Code != 128+int(syscall.SIGKILL) {
		t.Fatalf("first leash exit %d, want SIGKILL", res.Code)
	}
	killed, err := profiles.Load(out)
	if err != nil {
		t.Fatalf("profile after SIGKILL: %v", err)
	}
	checkSyscalls(t, killed, []string{"sched_get_priority_max"}, nil)

	// Between the two leashes nothing is recorded.
	d.do(t, "g")
	second := startLeash(t, "learn", "-o", out, "--pid", pid, "--flush-interval", "100ms")
	second.waitRecording(t)
	d.do(t, "t")
	d.quit(t)
	res := second.wait(t)
	if res.Code != 0 {
		t.Fatalf("second leash exit %d, want 0\nstderr:\n%s", res.Code, res.Stderr)
	}
	p, err := profiles.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	checkSyscalls(t, p, []string{"sched_get_priority_max", "sched_get_priority_min"}, []string{"ioprio_get", "sched_rr_get_interval"})
	if p.Component != "svc" {
		t.Errorf("component %q, want svc (the existing profile's)", p.Component)
	}
	if n := len(p.Provenance.Runs); n != 2 {
		t.Fatalf("%d runs, want 2 (the killed one and the restarted one)", n)
	}
	for i, r := range p.Provenance.Runs {
		if !hasNote(r, "attached to running pid "+pid) {
			t.Errorf("run %d does not say tracking began late: %q", i, r.Incomplete)
		}
	}
	// Nothing half-written is left beside the profile but what SIGKILL
	// may have interrupted (a temporary file), and the profile is whole.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "svc.yaml" && !strings.HasPrefix(e.Name(), ".svc.yaml.tmp-") {
			t.Errorf("unexpected %s in the output directory", e.Name())
		}
	}
}

// cgroup2Root finds the cgroup v2 mount (/sys/fs/cgroup, or
// /sys/fs/cgroup/unified on hybrid hosts).
func cgroup2Root(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[2] == "cgroup2" {
			return f[1]
		}
	}
	testutil.SkipOrFail(t, "no cgroup2 mount")
	return ""
}

// testCgroup creates a cgroup for the test and removes it at the end, once
// the processes the test put in it are gone.
func testCgroup(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(cgroup2Root(t), fmt.Sprintf("leash-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-")))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Cleanups run last-in first-out: the processes were killed and
		// reaped by then; the kernel empties the cgroup soon after.
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := os.Remove(dir)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
				t.Errorf("remove cgroup %s: %v (procs: %q)", dir, err, b)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	return dir
}

// moveTo puts process pid into cgroup dir.
func moveTo(t *testing.T, dir string, pid int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		t.Fatalf("move %d into %s: %v", pid, dir, err)
	}
}

// TestLearnAttachCgroup: leash attached to a cgroup records the processes
// already in it (and the threads and children they start), a process that
// enters the cgroup afterwards and execs there, one moved in that never
// execs (from the rescan on), and nothing of a process outside it; SIGTERM
// ends the session with the profile written.
func TestLearnAttachCgroup(t *testing.T) {
	testutil.RequireRoot(t)
	prog := compileC(t, "attach", []string{filepath.Join(learnData, "attach.c")}, "-pthread")
	cg := testCgroup(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "svc.yaml")

	inside := startDriven(t, prog)
	moveTo(t, cg, inside.cmd.Process.Pid)
	outside := startDriven(t, prog)

	l := startLeash(t, "learn", "-o", out, "--cgroup", cg, "--flush-interval", "100ms")
	l.waitRecording(t)
	inside.do(t, "tc")
	outside.do(t, "g")
	// A process that enters the cgroup later, as a service's does under
	// systemd: it moves itself in, then execs the program.
	script := fmt.Sprintf(`echo $$ > %s/cgroup.procs && exec "$0"`, cg)
	late := startDriven(t, "/bin/sh", "-c", script, prog)
	late.do(t, "s")
	// A process moved in that never execs is found by leash's rescan,
	// which the flushed profile notes.
	moveTo(t, cg, outside.cmd.Process.Pid)
	rescued := "found by a rescan of cgroup " + cg
	deadline := time.Now().Add(stepTimeout)
	for {
		p, err := profiles.Load(out)
		if err == nil && len(p.Provenance.Runs) == 1 && hasNote(p.Provenance.Runs[0], rescued) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rescan of the moved process within %v; stderr:\n%s", stepTimeout, l.stderrText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	outside.do(t, "p")
	if err := l.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	res := l.wait(t)
	if res.Code != 0 {
		t.Fatalf("leash exit %d, want 0\nstderr:\n%s", res.Code, res.Stderr)
	}
	p := loadProfile(t, out, res)
	checkSyscalls(t, p,
		// The late process is tracked from its execve: its start-up
		// (sched_rr_get_interval) is there, unlike the one inside's.
		[]string{"sched_get_priority_min", "getitimer", "sched_get_priority_max", "execve", "sched_rr_get_interval", "getpriority"},
		// ioprio_get: made outside, before the process was moved in.
		[]string{"ioprio_get", "bpf"})
	if want := filepath.Base(cg); p.Component != want {
		t.Errorf("component %q, want %s (the cgroup's name)", p.Component, want)
	}
	run := p.Provenance.Runs[0]
	if !hasNote(run, "with 1 process already running (pid "+strconv.Itoa(inside.cmd.Process.Pid)) {
		t.Errorf("run does not say tracking of the process already inside began late: %q", run.Incomplete)
	}
	if hasNote(run, "pid "+strconv.Itoa(late.cmd.Process.Pid)) {
		t.Errorf("the process that entered and exec'd is noted as tracked late: %q", run.Incomplete)
	}
	if !hasNote(run, rescued+", up to 500ms after entering it without exec (pid "+strconv.Itoa(outside.cmd.Process.Pid)) {
		t.Errorf("run does not name the rescued process: %q", run.Incomplete)
	}
	// The program inside, its child, the late process and the moved one.
	if run.Processes != 4 {
		t.Errorf("processes %d, want 4", run.Processes)
	}
	inside.quit(t)
	outside.quit(t)
	late.quit(t)
}

// TestLearnAttachCgroupRecreated: a cgroup removed and created again (a
// systemd service stopped and started) is followed by its path: what
// starts in the new one is recorded.
func TestLearnAttachCgroupRecreated(t *testing.T) {
	testutil.RequireRoot(t)
	prog := compileC(t, "attach", []string{filepath.Join(learnData, "attach.c")}, "-pthread")
	cg := testCgroup(t)
	out := filepath.Join(t.TempDir(), "svc.yaml")
	l := startLeash(t, "learn", "-o", out, "--cgroup", cg)
	l.waitRecording(t)
	if err := os.Remove(cg); err != nil {
		t.Fatal(err)
	}
	l.waitFor(t, "is gone; waiting for it to come back")
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatal(err)
	}
	l.waitFor(t, "was created again; recording it")
	script := fmt.Sprintf(`echo $$ > %s/cgroup.procs && exec "$0"`, cg)
	started := startDriven(t, "/bin/sh", "-c", script, prog)
	started.do(t, "s")
	if err := l.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	res := l.wait(t)
	if res.Code != 0 {
		t.Fatalf("leash exit %d, want 0\nstderr:\n%s", res.Code, res.Stderr)
	}
	p := loadProfile(t, out, res)
	checkSyscalls(t, p, []string{"sched_rr_get_interval", "sched_get_priority_max"}, nil)
	started.quit(t)
}

// TestLearnAttachErrors: a target that cannot be attached to, or an output
// that cannot be merged into, is a one-line error with exit 2, before
// anything is recorded or written.
func TestLearnAttachErrors(t *testing.T) {
	testutil.RequireRoot(t)
	self := strconv.Itoa(os.Getpid())
	tests := []struct {
		name     string
		args     []string
		existing string // content of the output profile before the run
		mention  string // the error names this
	}{
		{name: "NoSuchPid", args: []string{"--pid", "4194999"}, mention: "4194999"},
		{name: "NegativePid", args: []string{"--pid", "-3"}, mention: "-3"},
		{name: "KernelThread", args: []string{"--pid", "2"}, mention: "kernel thread"},
		{name: "PidWithCmd", args: []string{"--pid", self, "--", "/bin/true"}, mention: "CMD"},
		{name: "PidAndCgroup", args: []string{"--pid", self, "--cgroup", "/sys/fs/cgroup"}, mention: "--cgroup"},
		{name: "PidWithUser", args: []string{"--pid", self, "--user", "nobody"}, mention: "--user"},
		{name: "NotCgroup", args: []string{"--cgroup", os.TempDir()}, mention: "not a cgroup v2 directory"},
		{name: "NoSuchCgroup", args: []string{"--cgroup", "/sys/fs/cgroup/no-such-leash-cgroup"}, mention: "no-such-leash-cgroup"},
		{name: "BadFlushInterval", args: []string{"--pid", self, "--flush-interval", "0s"}, mention: "--flush-interval"},
		{name: "InvalidExisting", args: []string{"--pid", self}, existing: "apiVersion: leash/v1\ncomponent: x\nsyscalls: [\n", mention: "p.yaml"},
		{name: "OtherComponent", args: []string{"--pid", self, "--component", "y"},
			existing: "apiVersion: leash/v1\ncomponent: x\nsyscalls: {}\ncapabilities: {}\nrun: {}\nprovenance:\n  runs: []\n", mention: `"x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "p.yaml")
			if tt.existing != "" {
				if err := os.WriteFile(out, []byte(tt.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res := runLeash(t, append([]string{"learn", "-o", out}, tt.args...)...)
			if res.Code != 2 {
				t.Fatalf("exit %d, want 2\nstderr:\n%s", res.Code, res.Stderr)
			}
			oneLine(t, res.Stderr)
			if !strings.Contains(res.Stderr, tt.mention) {
				t.Errorf("error does not mention %q: %q", tt.mention, res.Stderr)
			}
			if tt.existing == "" {
				emptyDir(t, dir)
			} else if b, _ := os.ReadFile(out); string(b) != tt.existing {
				t.Errorf("the existing profile was changed:\n%s", b)
			}
		})
	}
}
