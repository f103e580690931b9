package main

// The escape suite of leash run (issue 4): testdata/escape/escape.c has a
// benign mode, learned with leash learn, and attacks. Every attack must
// work unconfined as root (the control: otherwise the assertion that it
// is blocked says nothing) and fail under leash run with the learned
// profile, while the benign mode still works under that same profile.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/leash-project/leash/internal/testutil"
	"github.com/leash-project/leash/profiles"
)

func TestEscapeSuite(t *testing.T) {
	testutil.RequireRoot(t)
	dir := worldDir(t)
	escape := compileC(t, "escape", []string{"../../testdata/escape/escape.c"})
	work := filepath.Join(dir, "work") // world-writable scratch space
	mnt := filepath.Join(dir, "mnt")
	for _, d := range []string{work, mnt} {
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	suid := filepath.Join(dir, "escape-suid")
	copyFile(t, escape, suid)
	if err := syscall.Chmod(suid, 0o4755); err != nil {
		t.Fatal(err)
	}

	// A root process to attack: outside it is this one; inside the PID
	// namespace, pid 1 is leash's own init, which runs as root.
	victim := exec.Command("sleep", "600")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { victim.Process.Kill(); victim.Wait() }()
	victimPID := strconv.Itoa(victim.Process.Pid)

	// Learn the benign mode, as nobody.
	learned := filepath.Join(dir, "learned.yaml")
	res := runLeash(t, "learn", "-o", learned, "--user", "nobody", "--linger", "1s", "--", escape, "benign", work)
	if res.Code != 0 || !strings.Contains(res.Stdout, "benign: ok") {
		t.Fatalf("leash learn of the benign mode: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	p, err := profiles.Load(learned)
	if err != nil {
		t.Fatal(err)
	}
	p.Run = profiles.RunOptions{User: "nobody", Group: "nogroup", Namespaces: allNamespaces, DefaultAction: "errno"}
	profile := saveProfile(t, p)
	t.Logf("learned profile: %d syscalls, capabilities %v, families %v",
		len(p.Syscalls["x86_64"]), keys(p.Capabilities.Needed), keys(p.Families))

	res = runLeash(t, "run", "-p", profile, "--", escape, "benign", work)
	if res.Code != 0 || res.Stdout != "helper: ok\nbenign: ok\n" {
		t.Fatalf("benign mode under leash run: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}

	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	attacks := []struct {
		name        string
		outside     string // argument for the control
		inside      string // argument under leash run
		controlAs   *syscall.Credential
		noControlOK string // the control may fail with this on kernels without the feature
		needsIA32   bool   // the attack is i386 code: impossible where IA32 emulation is off
	}{
		{name: "raw-socket"},
		{name: "packet-socket"},
		{name: "netlink-socket"},
		{name: "ptrace", outside: victimPID, inside: "1"},
		{name: "mount", outside: mnt, inside: mnt},
		{name: "unshare-user"},
		{name: "unshare-mnt"},
		{name: "unshare-net"},
		{name: "clone-user"},
		{name: "clone-mnt"},
		{name: "clone-net"},
		{name: "int80", outside: filepath.Join(work, "int80"), inside: filepath.Join(work, "int80"), needsIA32: true},
		{name: "x32", noControlOK: "Function not implemented"},
		{name: "io-uring"},
		{name: "bpf"},
		{name: "keyctl"},
		// As root the copy trivially runs as root: the control that
		// matters is nobody regaining root through it without leash.
		{name: "suid-exec", outside: suid, inside: suid, controlAs: nobody},
		{name: "vm-readv", outside: victimPID, inside: "1"},
		{name: "proc-mem", outside: victimPID, inside: "1"},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			ctl := exec.Command(escape, "attack", a.name, a.outside)
			if a.controlAs != nil {
				ctl.SysProcAttr = &syscall.SysProcAttr{Credential: a.controlAs}
			}
			out, err := ctl.CombinedOutput()
			ia32, noIA32 := testutil.IA32()
			switch {
			case err == nil && strings.Contains(string(out), a.name+": escaped"):
			case a.needsIA32 && !ia32:
				t.Logf("control: %s: %s; the filter's i386 tree is tested in package seccomp's BPF VM", a.name, noIA32)
			case a.noControlOK != "" && strings.Contains(string(out), a.noControlOK):
				t.Logf("control: %s: this kernel refuses it outright (%s); the filter's guard is tested in package seccomp", a.name, strings.TrimSpace(string(out)))
			default:
				t.Fatalf("control: attack %s does not work unconfined (%v): %s", a.name, err, out)
			}
			res := runLeash(t, "run", "-p", profile, "--", escape, "attack", a.name, a.inside)
			if res.Code == 0 || strings.Contains(res.Stdout, "escaped") {
				t.Errorf("attack %s under leash run: exit %d\n%s%s", a.name, res.Code, res.Stdout, res.Stderr)
			}
			how := strings.TrimSpace(res.Stdout)
			if res.Code == 128+int(syscall.SIGSYS) {
				how = "killed by SIGSYS"
			}
			t.Logf("%s", how)
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestEscapeAsRoot: a component that runs as uid 0 with no capability at
// all, under a filter that allows every syscall, still owns the
// root-owned files the kernel offers: its tunables and device nodes.
// Writing kernel.core_pattern (here its own value back) would let it run
// any program as root on the host at the next crash; /sys holds more of
// the same (here transparent_hugepage, its own value back); the host's
// console and loop devices open read-write for uid 0 (on machines that
// let it, the raw disks too); a map the host pinned in /sys/fs/bpf can be
// updated. Each works unconfined as uid 0 without
// capabilities (setpriv, the control) and fails under leash run, whose
// private /dev and read-only tunables are on by default.
func TestEscapeAsRoot(t *testing.T) {
	testutil.RequireRoot(t)
	pin := "/sys/fs/bpf/leash-escape-" + strconv.Itoa(os.Getpid())
	if out, err := exec.Command("bpftool", "map", "create", pin, "type", "array", "key", "4", "value", "4", "entries", "1", "name", "leashescape").CombinedOutput(); err != nil {
		t.Fatalf("pin a map for the bpf-pin attack (bpftool, bpffs at /sys/fs/bpf): %v: %s", err, out)
	}
	defer os.Remove(pin)
	// And one in a bpf file system mounted elsewhere (as Cilium mounts
	// /run/cilium/bpffs).
	fsDir := filepath.Join(t.TempDir(), "bpffs")
	if err := os.Mkdir(fsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("bpf", fsDir, "bpf", 0, ""); err != nil {
		t.Fatalf("mount a bpf file system: %v", err)
	}
	defer syscall.Unmount(fsDir, syscall.MNT_DETACH)
	pin2 := filepath.Join(fsDir, "map")
	if out, err := exec.Command("bpftool", "map", "create", pin2, "type", "array", "key", "4", "value", "4", "entries", "1", "name", "leashescape2").CombinedOutput(); err != nil {
		t.Fatalf("pin a map in %s: %v: %s", fsDir, err, out)
	}
	attacks := []struct{ name, script string }{
		{"core_pattern", `v=$(cat /proc/sys/kernel/core_pattern) && printf '%s\n' "$v" > /proc/sys/kernel/core_pattern && echo escaped`},
		{"sysfs", `v=$(cat /sys/kernel/mm/transparent_hugepage/enabled) && w=${v#*[} && printf '%s\n' "${w%%]*}" > /sys/kernel/mm/transparent_hugepage/enabled && echo escaped`},
		{"host-console", `exec 3<>/dev/console && echo escaped`},
		// A map pinned by the host (by a security tool, say): the bpf
		// syscall opens pins by file permission, through read-only mounts.
		{"bpf-pin", `bpftool map update pinned ` + pin + ` key 0 0 0 0 value 0x37 0x13 0 0 && echo escaped`},
		{"bpf-pin-elsewhere", `bpftool map update pinned ` + pin2 + ` key 0 0 0 0 value 0x37 0x13 0 0 && echo escaped`},
	}
	p := openProfile("root", "")
	p.Run.Namespaces = nil // the protections need no namespace to be listed
	profile := saveProfile(t, p)
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			ctl := exec.Command("setpriv", "--clear-groups", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "/bin/sh", "-c", a.script)
			if out, err := ctl.CombinedOutput(); err != nil || !strings.Contains(string(out), "escaped") {
				t.Fatalf("control: %s as uid 0 without capabilities, unconfined: %v: %s", a.name, err, out)
			}
			res := runLeash(t, "run", "-p", profile, "--", "/bin/sh", "-c", a.script)
			if res.Code == 0 || strings.Contains(res.Stdout, "escaped") {
				t.Errorf("%s under leash run: exit %d\n%s%s", a.name, res.Code, res.Stdout, res.Stderr)
			}
			t.Logf("%s", lastLine(res.Stderr))
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
