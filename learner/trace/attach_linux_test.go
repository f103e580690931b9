package trace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// startBlocked starts `sh -c SCRIPT`, which must print "ready" and then
// block reading stdin; it returns the shell and its stdin. The shell is
// killed when the test ends.
func startBlocked(t *testing.T, script string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
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
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("shell said %q, %v; want ready", line, err)
	}
	return cmd, in
}

// waitEmpty waits (at most 10s) until the session has no live task.
func waitEmpty(t *testing.T, s *Session) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		live, err := s.Live()
		if err != nil {
			t.Fatal(err)
		}
		if live == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tasks still live 10s after the attached tree exited", live)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAttachTree: a running shell, attached mid-run, has its later
// syscalls, the child it forks after attach and that child's exec
// recorded; its exit empties the session (no task counted twice or left
// behind); its executable comes from /proc.
func TestAttachTree(t *testing.T) {
	tr := tracer(t)
	s, err := tr.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sh, in := startBlocked(t, `echo ready; read _; /bin/true; exit 0`)
	procs, err := s.AttachTree(sh.Process.Pid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 1 || procs[0].Pid != sh.Process.Pid || !procs[0].Late {
		t.Fatalf("attached %+v, want the shell (pid %d) registered late", procs, sh.Process.Pid)
	}
	// Attaching again finds it tracked.
	again, err := s.AttachTree(sh.Process.Pid, nil)
	if err != nil || len(again) != 0 {
		t.Fatalf("second attach registered %+v (%v), want nothing new", again, err)
	}
	fmt.Fprintln(in, "go")
	if err := sh.Wait(); err != nil {
		t.Fatalf("shell: %v", err)
	}
	waitEmpty(t, s)
	obs, err := s.Observations()
	if err != nil {
		t.Fatal(err)
	}
	if obs.Processes != 2 {
		t.Errorf("processes = %d, want 2 (the shell and its child)", obs.Processes)
	}
	for _, name := range []string{"wait4", "execve", "exit_group"} {
		if _, ok := hasSyscall(obs, ABINative, name); !ok {
			t.Errorf("%s missing; syscalls: %v", name, syscallNames(obs, ABINative))
		}
	}
	shell, _ := filepath.EvalSymlinks("/bin/sh")
	truePath := "/bin/true"
	for _, want := range []string{shell, truePath} {
		if !slices.Contains(obs.Executables, want) {
			t.Errorf("executables %v lack %s", obs.Executables, want)
		}
	}
}

// TestAttachErrors: a pid that does not exist is an error that says so.
func TestAttachErrors(t *testing.T) {
	tr := tracer(t)
	s, err := tr.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AttachTree(1<<22+1, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("attach to a missing pid: %v, want not-exist", err)
	}
	if err := s.WatchCgroup("/proc"); err == nil {
		t.Errorf("watching /proc as a cgroup succeeded")
	}
}
