package cli

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/leash-project/leash/internal/testutil"
	"github.com/leash-project/leash/profiles"
)

// TestCheck learns /bin/true, then checks /bin/true (nothing new),
// /bin/ls (new syscalls: exit 1 naming them) and /bin/false (nothing new
// but a failing command: exit 4) against that profile.
func TestCheck(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	prof := filepath.Join(dir, "true.yaml")
	if code, _, errOut := leashCLI(t, "learn", "-o", prof, "--", "/bin/true"); code != 0 {
		t.Fatalf("learn /bin/true: exit %d: %s", code, errOut)
	}
	tests := []struct {
		name     string
		argv     []string
		want     int
		wantOut  []string
		wantNone bool
	}{
		{"same command", []string{"/bin/true"}, 0, []string{"needed nothing outside"}, true},
		{"more syscalls", []string{"/bin/ls", "/"}, ExitGate, []string{"getdents64 (first by /bin/ls)", "outside " + prof}, false},
		{"failing command", []string{"/bin/false"}, ExitCheckCommand, []string{"needed nothing outside"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check", prof, "--"}, tt.argv...)
			code, out, errOut := leashCLI(t, args...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.want, out, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			// JSON agrees with the text.
			code, out, errOut = leashCLI(t, append([]string{"check", "--json", prof, "--"}, tt.argv...)...)
			if code != tt.want {
				t.Fatalf("--json: exit %d, want %d: %s", code, tt.want, errOut)
			}
			var res struct {
				Grants  bool `json:"grants"`
				Changes []struct {
					Kind, Name string
				} `json:"changes"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("--json output: %v\n%s", err, out)
			}
			if res.Grants == tt.wantNone || (len(res.Changes) == 0) != tt.wantNone {
				t.Errorf("--json: grants %v with %d changes, want none=%v", res.Grants, len(res.Changes), tt.wantNone)
			}
		})
	}
}

func TestCheckUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"check", filepath.Join(dir, "missing.yaml"), "--", "/bin/true"},
		{"check", "/bin/true"},
		{"check", "-f", filepath.Join(dir, "missing.yaml")},
		{"check", "-f", filepath.Join(dir, "leash.yaml"), "--", "/bin/true"},
		{"check", "--driver", "true", filepath.Join(dir, "p.yaml"), "--", "/bin/true"},
		{"check", "--linger", "-1s", filepath.Join(dir, "p.yaml"), "--", "/bin/true"},
	} {
		if code, _, _ := leashCLI(t, args...); code != ExitInput {
			t.Errorf("leash %v: exit %d, want %d", args, code, ExitInput)
		}
	}
}

// TestCheckDelta: what a check fails on, and what it only notes.
func TestCheckDelta(t *testing.T) {
	base := func() *profiles.Profile {
		return &profiles.Profile{
			APIVersion: profiles.APIVersion, Component: "app",
			Syscalls: map[string]map[string]string{"x86_64": {
				"read": "/app", "write": "/app", "futex": "/app", "exit_group": "/app", "execve": "/app",
			}},
			Run: profiles.RunOptions{User: "nobody"},
		}
	}
	tests := []struct {
		name      string
		widen     []string
		edit      func(p *profiles.Profile)
		grants    []string // Kind/Name of the changes that fail the check
		notes     []string
		wantGrant bool
	}{
		{"same", nil, func(*profiles.Profile) {}, nil, nil, false},
		{"new syscall", nil, func(p *profiles.Profile) { p.Syscalls["x86_64"]["ptrace"] = "/app" }, []string{"syscall/ptrace"}, nil, true},
		// sched_yield is in go-runtime's futex group: allowed by the filter.
		{"widened syscall", []string{"go-runtime"}, func(p *profiles.Profile) { p.Syscalls["x86_64"]["sched_yield"] = "/app" }, nil, []string{"syscall/sched_yield"}, false},
		{"widened and new", []string{"go-runtime"}, func(p *profiles.Profile) {
			p.Syscalls["x86_64"]["sched_yield"] = "/app"
			p.Syscalls["x86_64"]["mount"] = "/app"
		}, []string{"syscall/mount"}, []string{"syscall/sched_yield"}, true},
		{"new executable", nil, func(p *profiles.Profile) {
			p.Provenance.Executables = []profiles.Executable{{Path: "/usr/bin/helper", SHA256: strings.Repeat("a", 64)}}
		}, nil, []string{"executable//usr/bin/helper"}, false},
		{"run options are the profile's", nil, func(p *profiles.Profile) { p.Run.User = "root" }, nil, nil, false},
	}
	names := func(cs []profiles.Change) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Kind+"/"+c.Name)
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := base()
			want.Widen = tt.widen
			learned := base()
			tt.edit(learned)
			g, n, err := checkDelta("app.yaml", want, learned)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(g.Changes); !slices.Equal(got, tt.grants) {
				t.Errorf("grants %v, want %v", got, tt.grants)
			}
			if got := names(n.Changes); !slices.Equal(got, tt.notes) {
				t.Errorf("notes %v, want %v", got, tt.notes)
			}
			if g.Grants() != tt.wantGrant {
				t.Errorf("Grants() = %v, want %v", g.Grants(), tt.wantGrant)
			}
		})
	}
}
