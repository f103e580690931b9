package trace

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNestedTracerAnnounces: a tracked process that announces itself as a
// leash tracer (whatever its binary) leaves the session at once: nothing
// it does afterwards, on any of its threads, is recorded, the
// announcement included, and its children are not followed. With the
// preferred hooks and with the fallbacks (the classic sys_enter
// tracepoint reads the command differently).
func TestNestedTracerAnnounces(t *testing.T) {
	tracer(t)
	bin := filepath.Join(t.TempDir(), "announce")
	if out, err := exec.Command("gcc", "-O2", "-Wall", "-pthread", "-o", bin, "testdata/announce.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	tests := []struct {
		name string
		skip []string
	}{
		{"Preferred", nil},
		{"Fallback", []string{"tp_btf/sched_process_{fork,exec,exit}", "tp_btf/sys_enter", "raw_tp/sys_enter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tracer(t)
			if tt.skip != nil {
				var err error
				if tr, err = Open(Options{Skip: tt.skip}); err != nil {
					t.Fatal(err)
				}
				defer tr.Close()
			}
			s, err := tr.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			obs := runTracked(t, s, bin)
			if _, ok := hasSyscall(obs, ABINative, "ioprio_get"); !ok {
				t.Errorf("ioprio_get, made before the announcement, missing")
			}
			for _, name := range []string{"bpf", "sched_getparam", "sched_get_priority_max", "getcpu"} {
				if exe, ok := hasSyscall(obs, ABINative, name); ok {
					t.Errorf("%s (by %s) recorded after the announcement", name, exe)
				}
			}
			if obs.Processes != 1 {
				t.Errorf("processes %d, want 1 (the child of the announced process is not followed)", obs.Processes)
			}
			if len(obs.Incomplete) != 0 {
				t.Errorf("incomplete: %q", obs.Incomplete)
			}
			// Honoured, but not silently: a handoff by a binary that
			// is not the tracer's own.
			if want := []HandoffObs{{Exe: bin}}; !reflect.DeepEqual(obs.Handoffs, want) {
				t.Errorf("handoffs %+v, want %+v", obs.Handoffs, want)
			}
		})
	}
}

// TestExecPaths: an exec'd program is named by an absolute path that a
// reviewer (and the digest) can check, however execve named it, resolved
// in the kernel at the exec: the program may be gone before userspace
// looks.
func TestExecPaths(t *testing.T) {
	tr := tracer(t)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	trueBin, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(trueBin)
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "prog")
	if err := os.WriteFile(prog, b, 0o755); err != nil {
		t.Fatal(err)
	}
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, script, want string
	}{
		{"Relative", "cd " + dir + " && exec ./prog", prog},
		{"DotDot", "cd " + dir + "/sub && exec ../prog", prog},
		{"Absolute", "exec " + prog, prog},
		{"ProcSelfExe", "exec /proc/self/exe -c :", sh},
		{"DevFd", "exec 3<" + prog + " && exec /dev/fd/3", prog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tr.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			obs := runTracked(t, s, "/bin/sh", "-c", tt.script)
			if !slices.Contains(obs.Executables, tt.want) {
				t.Errorf("executables %q, want %s among them", obs.Executables, tt.want)
			}
			// The identity read at the exec is the file's.
			var st unix.Stat_t
			if err := unix.Stat(tt.want, &st); err != nil {
				t.Fatal(err)
			}
			if want := (ExeFile{Path: tt.want, ID: StatID(&st)}); !slices.Contains(obs.ExeFiles, want) {
				t.Errorf("exe files %+v, want %+v among them", obs.ExeFiles, want)
			}
			for _, e := range obs.Executables {
				if !filepath.IsAbs(e) || filepath.Clean(e) != e || filepath.Dir(e) == "/proc/self" || filepath.Dir(e) == "/dev/fd" {
					t.Errorf("executable %q: not an absolute, clean, checkable path", e)
				}
			}
		})
	}
}

// TestExePath: the path the exec hook resolved is cleaned of "." and ".."
// unless a symbolic link makes the cleaned path another file, and a path
// the kernel could not fit is marked rather than hashed as something else.
func TestExePath(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"prog", "a/b/x", "a/prog"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "a", "b"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		flags      uint32
		want       string
	}{
		{"Clean", dir + "/prog", 0, dir + "/prog"},
		{"Dot", dir + "/./prog", 0, dir + "/prog"},
		{"DotDot", dir + "/a/../prog", 0, dir + "/prog"},
		{"DoubleSlash", dir + "//prog", 0, dir + "/prog"},
		{"DotDotAfterSymlink", dir + "/link/../prog", 0, dir + "/link/../prog"}, // is dir/a/prog
		{"Gone", dir + "/gone/../prog", 0, dir + "/prog"},
		{"Truncated", "./prog", exeFTruncated, "./prog (path too long to resolve)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exePath(tt.path, tt.flags); got != tt.want {
				t.Errorf("exePath(%q, %d) = %q, want %q", tt.path, tt.flags, got, tt.want)
			}
		})
	}
}
