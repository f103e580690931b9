package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/seccomp"
)

// runFilter runs `leash filter args...` with stdout as given and returns
// the exit code and stderr.
func runFilter(t *testing.T, stdout io.Writer, args ...string) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	root := New(stdout, &stderr)
	root.SetArgs(append([]string{"filter"}, args...))
	code := exitCode(root.Execute(), &stderr)
	return code, stderr.String()
}

const filterFixture = "../../testdata/seccomp/basic.yaml"

func compiledFixture(t *testing.T, opts seccomp.Options) *seccomp.Filter {
	t.Helper()
	p, err := profiles.Load(filterFixture)
	if err != nil {
		t.Fatal(err)
	}
	f, err := seccomp.Compile(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFilterOutputs(t *testing.T) {
	f := compiledFixture(t, seccomp.Options{})
	raw, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	kill := compiledFixture(t, seccomp.Options{DefaultAction: "kill-process"})

	var out bytes.Buffer
	if code, errs := runFilter(t, &out, filterFixture); code != ExitOK || out.String() != f.Disasm() {
		t.Errorf("default output: exit %d, stderr %q; disassembly matches: %v", code, errs, out.String() == f.Disasm())
	}
	out.Reset()
	if code, _ := runFilter(t, &out, "--default-action", "kill-process", "--disasm", filterFixture); code != ExitOK || out.String() != kill.Disasm() {
		t.Errorf("--default-action kill-process: exit %d, output differs from Compile's", code)
	}
	out.Reset()
	if code, _ := runFilter(t, &out, "--format", "bpf", filterFixture); code != ExitOK || !bytes.Equal(out.Bytes(), raw) {
		t.Errorf("--format bpf to a pipe: exit %d, %d bytes, want %d", code, out.Len(), len(raw))
	}

	path := filepath.Join(t.TempDir(), "f.bpf")
	out.Reset()
	if code, errs := runFilter(t, &out, "--format", "bpf", "-o", path, filterFixture); code != ExitOK || out.Len() != 0 {
		t.Fatalf("-o: exit %d, stderr %q, stdout %d bytes", code, errs, out.Len())
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, raw) {
		t.Errorf("-o wrote %d bytes (%v), want the %d of Bytes", len(got), err, len(raw))
	}

	out.Reset()
	if code, _ := runFilter(t, &out, "--format", "json", filterFixture); code != ExitOK {
		t.Fatalf("--format json: exit %d", code)
	}
	var j struct {
		Syscalls []seccomp.Entry
		Program  []struct{ Op uint16 }
	}
	if err := json.Unmarshal(out.Bytes(), &j); err != nil || len(j.Program) != len(raw)/8 || len(j.Syscalls) != len(f.Syscalls) {
		t.Errorf("--format json: %v; %d instructions, %d syscalls", err, len(j.Program), len(j.Syscalls))
	}
	var viaFlag bytes.Buffer
	if code, _ := runFilter(t, &viaFlag, "--json", filterFixture); code != ExitOK || !bytes.Equal(viaFlag.Bytes(), out.Bytes()) {
		t.Errorf("--json: exit %d, output differs from --format json", code)
	}

	out.Reset()
	if code, _ := runFilter(t, &out, "--explain", "../../testdata/seccomp/go-widened.yaml"); code != ExitOK ||
		!strings.Contains(out.String(), "tgkill") || !strings.Contains(out.String(), "widen go-runtime") {
		t.Errorf("--explain: exit %d, output lacks tgkill from go-runtime:\n%s", code, out.String())
	}

	// Netlink protocols: --explain names them on socket's rule, the
	// disassembly at each comparison.
	out.Reset()
	if code, _ := runFilter(t, &out, "--explain", "../../testdata/seccomp/netlink.yaml"); code != ExitOK ||
		!strings.Contains(out.String(), "AF_NETLINK only for NETLINK_ROUTE NETLINK_AUDIT NETLINK_KOBJECT_UEVENT") {
		t.Errorf("--explain: exit %d, socket's rule does not name the netlink protocols:\n%s", code, out.String())
	}
	out.Reset()
	if code, _ := runFilter(t, &out, "--format", "disasm", "../../testdata/seccomp/netlink.yaml"); code != ExitOK ||
		!strings.Contains(out.String(), "A = protocol (low 32 bits of args[2]) for AF_NETLINK") ||
		!strings.Contains(out.String(), "socket of a netlink protocol not in the profile") {
		t.Errorf("--format disasm: exit %d, no protocol check:\n%s", code, out.String())
	}
}

func TestFilterErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: leash/v1\ncomponent: x\nsyscalls: {x86_64: {frobnicate: /bin/x}}\n"), 0o644)
	widen := filepath.Join(dir, "widen.yaml")
	os.WriteFile(widen, []byte("apiVersion: leash/v1\ncomponent: x\nsyscalls: {x86_64: {read: /bin/x}}\nwiden: [python]\n"), 0o644)
	outPath := filepath.Join(dir, "out.bpf")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"invalid profile", []string{bad}, bad + ":3: unknown x86_64 syscall \"frobnicate\""},
		{"unknown widening", []string{widen}, `unknown widening "python"`},
		{"missing profile", []string{filepath.Join(dir, "none.yaml")}, "no such file"},
		{"unknown format", []string{"--format", "elf", filterFixture}, `unknown format "elf"`},
		{"unknown action", []string{"--default-action", "trap", filterFixture}, `unknown default action "trap"`},
		{"unknown arch", []string{"--arch", "mips", filterFixture}, `unknown architecture "mips"`},
		{"i386 host", []string{"--arch", "i386", filterFixture}, "not supported"},
		{"conflicting flags", []string{"--disasm", "--format", "bpf", filterFixture}, "disagree"},
		{"two format flags", []string{"--json", "--explain", filterFixture}, "--json and --explain disagree"},
		{"bad profile leaves -o alone", []string{"-o", outPath, bad}, "frobnicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code, errs := runFilter(t, &out, tt.args...)
			if code != ExitInput || !strings.Contains(errs, tt.want) || strings.Count(errs, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit %d and one line containing %q", code, errs, ExitInput, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %d bytes to stdout on error", out.Len())
			}
		})
	}
	if _, err := os.Stat(outPath); !os.IsNotExist(err) {
		t.Errorf("-o file exists after a failed compile: %v", err)
	}
}

// TestFilterRefusesTerminal gives the command a pseudo-terminal as stdout.
func TestFilterRefusesTerminal(t *testing.T) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	code, errs := runFilter(t, tty, "--format", "bpf", filterFixture)
	if code != ExitInput || !strings.Contains(errs, "terminal") {
		t.Errorf("binary to a terminal: exit %d, stderr %q", code, errs)
	}
	if code, errs := runFilter(t, tty, filterFixture); code != ExitOK {
		t.Errorf("disassembly to a terminal: exit %d, stderr %q", code, errs)
	}
}
