package learner

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leash-project/leash/internal/reexec"
	"github.com/leash-project/leash/internal/testutil"
	"github.com/leash-project/leash/learner/trace"
	"github.com/leash-project/leash/profiles"
)

// TestMain lets the test binary act as the learn stub, as leash does.
func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

var (
	tracerOnce sync.Once
	sharedTr   *trace.Tracer
	tracerErr  error
)

func openTracer(t *testing.T) *trace.Tracer {
	t.Helper()
	testutil.RequireRoot(t)
	tracerOnce.Do(func() { sharedTr, tracerErr = trace.Open(trace.Options{}) })
	if tracerErr != nil {
		t.Fatalf("open tracer: %v", tracerErr)
	}
	return sharedTr
}

func TestLearnSession(t *testing.T) {
	tr := openTracer(t)
	tests := []struct {
		name       string
		cmd        []string
		user       string
		linger     time.Duration
		wantExit   int
		wantCalls  []string // x86_64 syscalls that must be there
		absent     []string
		incomplete string // substring of Run.Incomplete, "" for none
		warn       string // substring of the messages, "" for none
	}{
		// The stub is a Go program: its runtime (sigaltstack, clone) and its
		// identity switch (setresuid) must not be recorded.
		{name: "true", cmd: []string{"/bin/true"}, wantCalls: []string{"execve", "exit_group"},
			absent: []string{"bpf", "perf_event_open", "setresuid", "wait4", "sigaltstack", "clone", "futex"}},
		{name: "as nobody", cmd: []string{"/bin/true"}, user: "nobody", wantCalls: []string{"execve", "exit_group"},
			absent: []string{"setresuid", "setresgid", "setgroups", "sigaltstack", "clone", "futex"}},
		{name: "exit status", cmd: []string{"/bin/sh", "-c", "exit 3"}, wantExit: 3},
		{name: "killed", cmd: []string{"/bin/sh", "-c", "kill -TERM $$"}, wantExit: 128 + 15, wantCalls: []string{"kill"}},
		{name: "daemon within linger", cmd: []string{"/bin/sh", "-c", "(sleep 0.2; ls / >/dev/null) & exit 0"},
			linger: 5 * time.Second, wantCalls: []string{"getdents64"}},
		{name: "go program", cmd: []string{os.Args[0], "-test.run=^$"}, warn: "go-runtime"},
		{name: "daemon beyond linger", cmd: []string{"/bin/sh", "-c", "(sleep 2) & exit 0"},
			linger: 50 * time.Millisecond, incomplete: "still running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "p.yaml")
			var warn bytes.Buffer
			res, err := Learn(Config{
				Tracer: tr, Command: tt.cmd, User: tt.user, Linger: tt.linger, Output: out, Leash: "test",
				Warn: &warn,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tt.wantExit {
				t.Errorf("exit %d, want %d", res.ExitCode, tt.wantExit)
			}
			p, err := profiles.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			if tt.warn == "" && tt.incomplete == "" && warn.Len() > 0 {
				t.Errorf("unexpected messages: %q", warn.String())
			}
			if tt.warn != "" && !strings.Contains(warn.String(), tt.warn) {
				t.Errorf("messages %q, want %q", warn.String(), tt.warn)
			}
			if p.Component != filepath.Base(tt.cmd[0]) {
				t.Errorf("component %q", p.Component)
			}
			run := p.Provenance.Runs[0]
			if run.ExitCode != tt.wantExit || run.Leash != "test" || run.User == "" || run.Kernel == "" {
				t.Errorf("run %+v", run)
			}
			if tt.user != "" && (run.User != tt.user || p.Run.User != tt.user) {
				t.Errorf("run user %q, profile user %q, want %s", run.User, p.Run.User, tt.user)
			}
			for _, c := range tt.wantCalls {
				if _, ok := p.Syscalls["x86_64"][c]; !ok {
					t.Errorf("%s missing", c)
				}
			}
			for _, c := range tt.absent {
				if by, ok := p.Syscalls["x86_64"][c]; ok {
					t.Errorf("%s recorded (by %s)", c, by)
				}
			}
			got := strings.Join(run.Incomplete, "; ")
			if tt.incomplete == "" && got != "" {
				t.Errorf("incomplete: %s", got)
			}
			if tt.incomplete != "" {
				if !strings.Contains(got, tt.incomplete) {
					t.Errorf("incomplete %q, want it to say %q", got, tt.incomplete)
				}
				if !strings.Contains(warn.String(), tt.incomplete) {
					t.Errorf("not said on stderr: %q", warn.String())
				}
			}
		})
	}
}

func TestLearnNotFound(t *testing.T) {
	tr := openTracer(t)
	out := filepath.Join(t.TempDir(), "p.yaml")
	_, err := Learn(Config{Tracer: tr, Command: []string{"/no/such/program"}, Output: out})
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("error %v, want a NotFoundError", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("profile written for a command that never ran")
	}
}

// TestLearnConcurrent: two sessions learn at once on one tracer (the
// manifest workflow) and each profile holds only its own command.
func TestLearnConcurrent(t *testing.T) {
	tr := openTracer(t)
	dir := t.TempDir()
	cmds := map[string][]string{
		"lister":  {"/bin/sh", "-c", "sleep 0.2; ls / >/dev/null"},
		"sleeper": {"/bin/sleep", "0.5"},
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(cmds))
	for name, cmd := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := Learn(Config{Tracer: tr, Command: cmd, Component: name, Output: filepath.Join(dir, name+".yaml"), Linger: time.Second})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	lister, err := profiles.Load(filepath.Join(dir, "lister.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sleeper, err := profiles.Load(filepath.Join(dir, "sleeper.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lister.Syscalls["x86_64"]["getdents64"]; !ok {
		t.Errorf("lister lacks getdents64")
	}
	if by, ok := sleeper.Syscalls["x86_64"]["getdents64"]; ok {
		t.Errorf("sleeper has getdents64 (by %s): the sessions mixed", by)
	}
	if _, ok := sleeper.Syscalls["x86_64"]["clock_nanosleep"]; !ok {
		t.Errorf("sleeper lacks clock_nanosleep")
	}
	for _, e := range sleeper.Provenance.Executables {
		if filepath.Base(e.Path) != "sleep" {
			t.Errorf("sleeper lists %s", e.Path)
		}
	}
}
