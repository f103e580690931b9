package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leash-project/leash/profiles"
)

const profilesTestdata = "../../testdata/profiles"

// runLeash runs leash's command tree in-process.
func runLeash(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := New(&out, &errOut)
	root.SetArgs(args)
	code = exitCode(root.Execute(), &errOut)
	return code, out.String(), errOut.String()
}

func td(name string) string { return filepath.Join(profilesTestdata, name) }

func TestShowCLI(t *testing.T) {
	code, out, errOut := runLeash(t, "show", td("web.yaml"))
	want, _ := os.ReadFile(td("web.show.txt"))
	if code != ExitOK || out != string(want) {
		t.Errorf("leash show: exit %d, stderr %q, output differs from web.show.txt:\n%s", code, errOut, out)
	}
	code, out, _ = runLeash(t, "show", "--json", td("web.yaml"))
	var m map[string]any
	if code != ExitOK || json.Unmarshal([]byte(out), &m) != nil {
		t.Fatalf("leash show --json: exit %d:\n%s", code, out)
	}
	for _, k := range []string{"component", "syscalls", "compatSyscalls", "capabilities", "noauditCapabilities", "deniedCapabilities", "families", "socketTypes", "namespaces", "executables", "incomplete", "profile"} {
		if _, ok := m[k]; !ok {
			t.Errorf("--json lacks %q", k)
		}
	}
	if m["component"] != "web" {
		t.Errorf("component %v", m["component"])
	}
}

// TestProfileCommandsBadInput: every command that reads profiles exits 2
// with one line naming the file, and writes nothing.
func TestProfileCommandsBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: leash/v1\ncomponent: x\nsyscalls:\n  x86_64:\n    nosuchcall: /bin/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.yaml")
	out := filepath.Join(dir, "out")
	for _, args := range [][]string{
		{"show", bad}, {"show", "--json", missing},
		{"merge", td("web.yaml"), bad, "-o", out},
		{"merge", missing, "-o", out},
		{"diff", td("web.yaml"), bad}, {"diff", bad, td("web.yaml")}, {"diff", "--json", missing, td("web.yaml")},
		{"export", "--format", "systemd", "-o", out, bad},
		{"export", "--format", "oci", missing},
	} {
		code, _, errOut := runLeash(t, args...)
		file := bad
		if strings.Contains(strings.Join(args, " "), missing) {
			file = missing
		}
		if code != ExitInput || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, file) {
			t.Errorf("leash %v: exit %d, stderr %q: want exit 2 and one line naming %s", args, code, errOut, file)
		}
		if strings.Contains(errOut, bad) && !strings.Contains(errOut, bad+":5:") {
			t.Errorf("leash %v: %q does not give the line", args, errOut)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("leash %v wrote %s", args, out)
		}
	}
}

func TestMergeCLI(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "merged.yaml")
	code, _, errOut := runLeash(t, "merge", td("merge-a.yaml"), td("merge-b.yaml"), "-o", out)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile(td("merge.golden.yaml"))
	if !bytes.Equal(got, want) {
		t.Errorf("merged file differs from merge.golden.yaml:\n%s", got)
	}
	code, _, errOut = runLeash(t, "merge", td("merge-a.yaml"), td("merge-other.yaml"), "-o", out)
	if code != ExitInput || !strings.Contains(errOut, "merge-other.yaml") || !strings.Contains(errOut, "--component") {
		t.Errorf("different components: exit %d %q", code, errOut)
	}
	code, stdout, _ := runLeash(t, "merge", td("merge-a.yaml"), td("merge-other.yaml"), "--component", "stack")
	p, err := profiles.Parse("stdout", []byte(stdout))
	if code != ExitOK || err != nil || p.Component != "stack" {
		t.Errorf("--component stack to stdout: exit %d, %v", code, err)
	}
}

func TestDiffCLI(t *testing.T) {
	for _, tt := range []struct {
		new  string
		code int
	}{{"diff-new", ExitGate}, {"diff-tight", ExitOK}, {"web", ExitOK}} {
		code, out, errOut := runLeash(t, "diff", td("web.yaml"), td(tt.new+".yaml"))
		if code != tt.code || errOut != "" {
			t.Errorf("diff web %s: exit %d (want %d), stderr %q", tt.new, code, tt.code, errOut)
		}
		if tt.new == "web" {
			if !strings.Contains(out, "no change in privilege") {
				t.Errorf("identical profiles: %s", out)
			}
			continue
		}
		old, _ := profiles.Load(td("web.yaml"))
		new, _ := profiles.Load(td(tt.new + ".yaml"))
		var want bytes.Buffer
		profiles.Diff(old, new).WriteText(&want, td("web.yaml"), td(tt.new+".yaml"))
		if out != want.String() {
			t.Errorf("text output differs from profiles.Diff:\n%s", out)
		}
		code, out, _ = runLeash(t, "diff", "--json", td("web.yaml"), td(tt.new+".yaml"))
		var j struct {
			Grants  bool              `json:"grants"`
			Changes []profiles.Change `json:"changes"`
		}
		if code != tt.code || json.Unmarshal([]byte(out), &j) != nil || j.Grants != (tt.code == ExitGate) || len(j.Changes) == 0 {
			t.Errorf("diff --json %s: exit %d:\n%s", tt.new, code, out)
		}
	}
}

func TestExportCLI(t *testing.T) {
	dir := t.TempDir()
	for _, format := range []string{"systemd", "oci", "oci-caps", "k8s"} {
		out := filepath.Join(dir, format)
		code, _, errOut := runLeash(t, "export", "--format", format, "-o", out, td("web.yaml"))
		data, _ := os.ReadFile(out)
		if code != ExitOK || len(data) == 0 {
			t.Errorf("export %s: exit %d %s", format, code, errOut)
		}
		code, stdout, _ := runLeash(t, "export", "--format", format, td("web.yaml"))
		if code != ExitOK || stdout != string(data) {
			t.Errorf("export %s to stdout differs from -o", format)
		}
	}
	// web.yaml names the go-runtime widening: the exports allow what
	// leash's filter allows, not only what was learned.
	sd, _ := os.ReadFile(filepath.Join(dir, "systemd"))
	if !strings.Contains(string(sd), " tgkill") || !strings.Contains(string(sd), " sched_yield") {
		t.Errorf("systemd export lacks the go-runtime widening:\n%s", sd)
	}
	oci, _ := os.ReadFile(filepath.Join(dir, "oci"))
	if !strings.Contains(string(oci), `"tgkill"`) {
		t.Error("oci export lacks the go-runtime widening")
	}
	for _, args := range [][]string{
		{"export", td("web.yaml")},
		{"export", "--format", "docker", td("web.yaml")},
	} {
		if code, _, errOut := runLeash(t, args...); code != ExitInput || !strings.Contains(errOut, "format") {
			t.Errorf("leash %v: exit %d %q", args, code, errOut)
		}
	}
}

func TestProfileCommandsHelp(t *testing.T) {
	for _, name := range []string{"show", "merge", "diff", "export"} {
		code, stdout, _ := runLeash(t, name, "--help")
		if code != ExitOK || !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "Exit status") {
			t.Errorf("leash %s --help: exit %d, want examples and exit codes:\n%s", name, code, stdout)
		}
	}
}
