package main

// Shared helpers for the CLI-level tests of this package: they build the
// real leash binary once (go build, into a temporary directory) and run it
// as a user would, so exit codes, stdout/stderr and signals are the ones a
// user sees.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binDir   string // removed by TestMain
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "leash-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "create binary dir: %v\n", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// goTool finds the go command that runs these tests.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// leashBin builds cmd/leash once per test binary and returns its path. The
// directory it is in is world-readable and searchable, so tests may run it
// as an unprivileged user. A build failure fails every test that needs it.
func leashBin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		if err := os.Chmod(binDir, 0o755); err != nil {
			binError = fmt.Errorf("chmod %s: %w", binDir, err)
			return
		}
		out := filepath.Join(binDir, "leash")
		cmd := exec.Command(goTool(), "build", "-o", out, ".")
		// Built as shipped (Makefile build): static, pure-Go os/user and net.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			binError = fmt.Errorf("go build ./cmd/leash: %w\n%s", err, stderr.String())
			return
		}
		binPath = out
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

// leashResult is what one leash invocation did.
type leashResult struct {
	Stdout, Stderr string
	// Code is the exit status; 128+signal when leash itself was killed.
	Code int
}

// leashCmd describes one leash invocation beyond its arguments.
type leashCmd struct {
	Args    []string
	Dir     string   // working directory; the test's cwd when empty
	Env     []string // added to the test's environment
	Stdin   string
	Timeout time.Duration // 2 minutes when zero
	// Credential runs leash itself as another user.
	Credential *syscall.Credential
}

// runLeash runs the leash binary with args and returns its output and exit
// status. It fails the test only when leash could not be started or hung.
func runLeash(t testing.TB, args ...string) leashResult {
	t.Helper()
	return runLeashCmd(t, leashCmd{Args: args})
}

// runLeashCmd is runLeash with a working directory, environment, stdin,
// timeout or user.
func runLeashCmd(t testing.TB, c leashCmd) leashResult {
	t.Helper()
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, leashBin(t), c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdin = strings.NewReader(c.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	// A daemon left behind by CMD may hold the pipes open; do not wait for
	// it longer than this once leash itself has exited.
	cmd.WaitDelay = 10 * time.Second
	if c.Credential != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.Credential}
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("leash %s: timed out after %v\nstdout:\n%s\nstderr:\n%s",
			strings.Join(c.Args, " "), timeout, stdout.String(), stderr.String())
	}
	res := leashResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Code = exitStatus(ee.ProcessState)
	case errors.Is(err, exec.ErrWaitDelay):
		res.Code = exitStatus(cmd.ProcessState)
	default:
		t.Fatalf("run leash %s: %v", strings.Join(c.Args, " "), err)
	}
	return res
}

// exitStatus is a shell's view of how a process ended: its exit code, or
// 128+signal when a signal killed it.
func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// compileC compiles C sources (paths relative to this package) with gcc into
// a world-readable temporary directory and returns the executable's path.
func compileC(t testing.TB, name string, srcs []string, flags ...string) string {
	t.Helper()
	dir := worldDir(t)
	out := filepath.Join(dir, name)
	args := append([]string{"-O2", "-Wall", "-o", out}, srcs...)
	args = append(args, flags...)
	cmd := exec.Command("gcc", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// worldDir returns a new temporary directory that any user may enter and
// read, so a program in it can run as nobody.
func worldDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	// t.TempDir makes a 0700 parent per test; open both.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
