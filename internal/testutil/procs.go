package testutil

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// UniqueSleep is a sleep duration (seconds, for sleep(1)) that no other
// process on the host uses, about base seconds long: a test runs
// "sleep UniqueSleep(...)" and finds what survives with Processes.
func UniqueSleep(base int) string {
	return fmt.Sprintf("%d.%06d%03d", base, os.Getpid()%1000000, time.Now().Nanosecond()/1000%1000)
}

// Processes returns the pids of the live processes whose command line is
// exactly argv (zombies excluded: they have none).
func Processes(argv ...string) []int {
	want := strings.Join(argv, "\x00") + "\x00"
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || string(b) != want {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(d)); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Children returns the pids of pid's children. A children file lists
// those of one thread, and a Go program forks from whichever of its
// threads runs: it reads them all.
func Children(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var kids []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, k := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(k); err == nil {
				kids = append(kids, n)
			}
		}
	}
	return kids
}

// WaitStarted waits up to timeout for a process with command line argv
// to run, and returns their pids (none: it did not start).
func WaitStarted(timeout time.Duration, argv ...string) []int {
	deadline := time.Now().Add(timeout)
	for {
		pids := Processes(argv...)
		if len(pids) > 0 || time.Now().After(deadline) {
			return pids
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitGone waits up to timeout for no process with command line argv to
// be left, and returns those still there.
func WaitGone(timeout time.Duration, argv ...string) []int {
	deadline := time.Now().Add(timeout)
	for {
		pids := Processes(argv...)
		if len(pids) == 0 || time.Now().After(deadline) {
			return pids
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// KillAtCleanup SIGKILLs, when the test ends, every process still
// running with command line argv: a failing test leaves nothing behind.
func KillAtCleanup(t testing.TB, argv ...string) {
	t.Cleanup(func() {
		for _, pid := range Processes(argv...) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// StartLines starts cmd with its standard output read line by line
// through the returned scanner and its standard error collected.
func StartLines(t testing.TB, cmd *exec.Cmd) (*bufio.Scanner, *strings.Builder) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return bufio.NewScanner(stdout), stderr
}
