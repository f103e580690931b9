package cli

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leash-project/leash/internal/testutil"
)

// upComponent is a component of a test manifest.
type upComponent struct {
	name    string
	command []string
	run     string // the run: options, YAML flow style; "": none
}

// learnedSystem writes a manifest of comps, learns their profiles with
// leash learn -f (a one-second driver) and returns leash and the
// manifest. Learning must not wait for what a stopped component left
// holding its output.
func learnedSystem(t *testing.T, comps []upComponent) (leash, man string) {
	t.Helper()
	leash = buildGo(t, t.TempDir(), "cmd/leash")
	man = filepath.Join(t.TempDir(), "leash.yaml")
	var doc strings.Builder
	doc.WriteString("apiVersion: leash/v1\nkind: System\ncomponents:\n")
	for _, c := range comps {
		var q []string
		for _, a := range c.command {
			q = append(q, "'"+strings.ReplaceAll(a, "'", "''")+"'")
		}
		fmt.Fprintf(&doc, "  - name: %s\n    command: [%s]\n", c.name, strings.Join(q, ", "))
		if c.run != "" {
			fmt.Fprintf(&doc, "    run: %s\n", c.run)
		}
	}
	if err := os.WriteFile(man, []byte(doc.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	learn := exec.Command(leash, "learn", "-f", man, "--linger", "1s", "--driver", "sleep 1")
	learn.WaitDelay = time.Second
	timer := time.AfterFunc(30*time.Second, func() { learn.Process.Kill() })
	defer timer.Stop()
	out, err := learn.CombinedOutput()
	if err != nil {
		t.Fatalf("leash learn -f: %v\n%s", err, out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("leash learn -f took %s with a one-second driver:\n%s", d.Round(time.Millisecond), out)
	}
	return leash, man
}

// upCmd starts leash up -f man, its output read line by line.
func upCmd(t *testing.T, leash, man string) (*exec.Cmd, *bufio.Scanner, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(leash, "up", "-f", man)
	sc, stderr := testutil.StartLines(t, cmd)
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, sc, stderr
}

// TestUpStopsOnSignal: SIGTERM stops leash up with everything its
// components started: within a few seconds when they stop on SIGTERM
// (a shell's foreground sleep, which holds the component's output,
// included), and stopGrace later, with SIGKILL, when they ignore it.
func TestUpStopsOnSignal(t *testing.T) {
	testutil.RequireRoot(t)
	stubborn := filepath.Join(t.TempDir(), "stubborn")
	tests := []struct {
		name   string
		comps  func(sleepA, sleepB []string) []upComponent
		want   int
		within time.Duration
	}{
		{
			name: "SIGTERM",
			comps: func(sleepA, sleepB []string) []upComponent {
				return []upComponent{
					{name: "shell", command: []string{"/bin/sh", "-c", "echo start; " + strings.Join(sleepA, " ")}},
					{name: "sleeper", command: sleepB},
				}
			},
			want:   128 + int(syscall.SIGTERM),
			within: 5 * time.Second,
		},
		{
			// It ignores SIGTERM once the file stubborn exists, after
			// learning; its sleep inherits that. In a PID namespace,
			// killing leash run ends it all.
			name: "SIGKILL after the grace",
			comps: func(sleepA, _ []string) []upComponent {
				script := "[ ! -e " + stubborn + " ] || trap '' TERM; echo start; " + strings.Join(sleepA, " ")
				return []upComponent{{name: "shell", command: []string{"/bin/sh", "-c", script}, run: "{namespaces: [pid, mnt]}"}}
			},
			want:   128 + int(syscall.SIGKILL),
			within: stopGrace + 5*time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sleepA := []string{"sleep", testutil.UniqueSleep(60)}
			sleepB := []string{"/bin/sleep", testutil.UniqueSleep(61)}
			testutil.KillAtCleanup(t, sleepA...)
			testutil.KillAtCleanup(t, sleepB...)
			comps := tt.comps(sleepA, sleepB)
			leash, man := learnedSystem(t, comps)
			sleeps := [][]string{sleepA}
			if len(comps) > 1 {
				sleeps = append(sleeps, sleepB)
			}
			for _, s := range sleeps {
				if left := testutil.WaitGone(2*time.Second, s...); len(left) > 0 {
					t.Errorf("leash learn -f left %s running (pids %v)", strings.Join(s, " "), left)
				}
			}
			if err := os.WriteFile(stubborn, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(stubborn)

			cmd, sc, stderr := upCmd(t, leash, man)
			for sc.Scan() && sc.Text() != "shell | start" {
			}
			for _, s := range sleeps {
				if len(testutil.WaitStarted(10*time.Second, s...)) == 0 {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("%s did not start:\n%s", strings.Join(s, " "), stderr)
				}
			}
			start := time.Now()
			cmd.Process.Signal(syscall.SIGTERM)
			timer := time.AfterFunc(tt.within+20*time.Second, func() { cmd.Process.Kill() })
			defer timer.Stop()
			for sc.Scan() {
			}
			err := cmd.Wait()
			if d := time.Since(start); d > tt.within {
				t.Errorf("leash up took %s to stop after SIGTERM, want %s at most\n%s", d.Round(time.Millisecond), tt.within, stderr)
			}
			if code := exitStatusOf(err); code != tt.want {
				t.Errorf("leash up: exit %d (%v), want %d\n%s", code, err, tt.want, stderr)
			}
			for _, s := range sleeps {
				if left := testutil.WaitGone(2*time.Second, s...); len(left) > 0 {
					t.Errorf("%s still running after leash up exited (pids %v)", strings.Join(s, " "), left)
				}
			}
		})
	}
}

// TestUpExitsWithComponent: leash up exits as soon as a component exits,
// although a background child of it still holds its output, and stops
// the others.
func TestUpExitsWithComponent(t *testing.T) {
	testutil.RequireRoot(t)
	background := []string{"sleep", testutil.UniqueSleep(60)}
	sleeper := []string{"/bin/sleep", testutil.UniqueSleep(61)}
	testutil.KillAtCleanup(t, background...)
	testutil.KillAtCleanup(t, sleeper...)
	leash, man := learnedSystem(t, []upComponent{
		{name: "quitter", command: []string{"/bin/sh", "-c", strings.Join(background, " ") + " & echo bye; exit 3"}},
		{name: "sleeper", command: sleeper},
	})

	start := time.Now()
	cmd, sc, stderr := upCmd(t, leash, man)
	timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	var out []string
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	err := cmd.Wait()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("leash up took %s to exit after its quitter did\n%s", d.Round(time.Millisecond), stderr)
	}
	if code := exitStatusOf(err); code != 3 {
		t.Errorf("leash up: exit %d (%v), want 3\n%s", code, err, stderr)
	}
	if got := strings.Join(out, "\n"); !strings.Contains(got, "quitter | bye") {
		t.Errorf("output lacks %q:\n%s", "quitter | bye", got)
	}
	if !strings.Contains(stderr.String(), "quitter exited with status 3") {
		t.Errorf("stderr lacks the quitter's exit:\n%s", stderr)
	}
	if left := testutil.WaitGone(2*time.Second, sleeper...); len(left) > 0 {
		t.Errorf("%s still running after leash up exited (pids %v)", strings.Join(sleeper, " "), left)
	}
}
