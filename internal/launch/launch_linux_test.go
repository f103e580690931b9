package launch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/internal/testutil"
	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/seccomp"
)

func TestParseRecord(t *testing.T) {
	tests := []struct {
		name string
		line string
		ok   bool
		want record
	}{
		{
			name: "kill, quoted exe",
			line: `5,1234,11318012031,-;audit: type=1326 audit(1795873076.374:35): auid=0 uid=65534 gid=65534 ses=42 subj=unconfined pid=27817 comm="cat" exe="/usr/bin/cat" sig=31 arch=c000003e syscall=318 compat=0 ip=0x40ac4e code=0x80000000`,
			ok:   true,
			want: record{session: 42, pid: 27817, exe: "/usr/bin/cat", abi: "x86_64", nr: 318, name: "getrandom", action: "KILL_PROCESS"},
		},
		{
			name: "errno, hex-encoded exe with a space, unset session",
			line: "6,1,2,-;audit: type=1326 audit(1.1:2): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=7 comm=\"a b\" exe=2F746D702F612062 sig=0 arch=c000003e syscall=101 compat=0 ip=0x1 code=0x50001\n SUBSYSTEM=x",
			ok:   true,
			want: record{pid: 7, exe: "/tmp/a b", abi: "x86_64", nr: 101, name: "ptrace", action: "ERRNO(EPERM)"},
		},
		{
			name: "errno as the kernel logs it: no errno value",
			line: `6,3,4,-;audit: type=1326 audit(1796197609.086:3): auid=0 uid=65534 gid=65534 ses=3 pid=12388 comm="escape" exe="/tmp/escape" sig=0 arch=c000003e syscall=41 compat=0 ip=0x7f8b80902dc7 code=0x50000`,
			ok:   true,
			want: record{session: 3, pid: 12388, exe: "/tmp/escape", abi: "x86_64", nr: 41, name: "socket", action: "ERRNO"},
		},
		{
			name: "i386 through int 0x80",
			line: `5,9,9,-;audit: type=1326 audit(1.1:2): auid=0 uid=0 gid=0 ses=3 pid=8 comm="x" exe="/x" sig=0 arch=40000003 syscall=39 compat=1 ip=0x1 code=0x7ffc0000`,
			ok:   true,
			want: record{session: 3, pid: 8, exe: "/x", abi: "i386", nr: 39, name: "mkdir", action: "LOG"},
		},
		{
			name: "x32",
			line: `5,9,9,-;audit: type=1326 audit(1.1:2): auid=0 uid=0 gid=0 ses=3 pid=8 comm="x" exe="/x" sig=0 arch=c000003e syscall=1073741863 compat=0 ip=0x1 code=0x50001`,
			ok:   true,
			want: record{session: 3, pid: 8, exe: "/x", abi: "x32", nr: 1073741863, name: "x32:39", action: "ERRNO(EPERM)"},
		},
		{
			name: "a number beyond the table",
			line: `5,9,9,-;audit: type=1326 audit(1.1:2): auid=0 uid=0 gid=0 ses=3 pid=8 comm="x" exe="/x" sig=0 arch=c000003e syscall=1000 compat=0 ip=0x1 code=0x50026`,
			ok:   true,
			want: record{session: 3, pid: 8, exe: "/x", abi: "x86_64", nr: 1000, name: "syscall-1000", action: "ERRNO(ENOSYS)"},
		},
		{
			name: "written to /dev/kmsg from user space (facility LOG_USER)",
			line: `12,9,9,-;audit: type=1326 audit(1.1:2): auid=0 uid=0 gid=0 ses=3 pid=8 comm="x" exe="/usr/sbin/sshd" sig=0 arch=c000003e syscall=165 compat=0 ip=0x1 code=0x7ffc0000`,
		},
		{
			name: "user space naming a facility of its own",
			line: `29,9,9,-;audit: type=1326 audit(1.1:2): auid=0 uid=0 gid=0 ses=3 pid=8 comm="x" exe="/x" sig=0 arch=c000003e syscall=165 compat=0 ip=0x1 code=0x7ffc0000`,
		},
		{name: "another audit type", line: `5,9,9,-;audit: type=1006 audit(1.1:2): pid=1 uid=0 old-auid=4294967295 auid=0`},
		{name: "not audit", line: `6,9,9,-;eth0: link up`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRecord(tt.line)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFragment(t *testing.T) {
	ds := []Denial{
		{Component: "web", Kind: "syscall", Name: "getrandom", ABI: "x86_64", Executable: "/usr/bin/cat", Count: 2},
		{Component: "web", Kind: "syscall", Name: "getrandom", ABI: "x86_64", Executable: "/usr/bin/other", Count: 1},
		{Component: "web", Kind: "syscall", Name: "mkdir", ABI: "i386", Executable: "/x"},
		{Component: "web", Kind: "syscall", Name: "x32:39", ABI: "x32", Executable: "/x"},
		{Component: "web", Kind: "syscall", Name: "clone3", ABI: "x86_64", Nr: 435, Executable: "/x", Action: ActionENOSYS},
	}
	p := Fragment("web", ds)
	want := map[string]map[string]string{
		"x86_64": {"getrandom": "/usr/bin/cat"},
		"i386":   {"mkdir": "/x"},
	}
	if !reflect.DeepEqual(p.Syscalls, want) {
		t.Errorf("fragment syscalls = %v, want %v", p.Syscalls, want)
	}
	// The fragment must be a valid profile for leash merge.
	data, err := profiles.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := profiles.Parse("fragment.yaml", data); err != nil {
		t.Errorf("fragment does not load: %v\n%s", err, data)
	}
}

// TestMarkENOSYS: the filter that ran says which errno records were its
// fixed ENOSYS answers (clone3, numbers past the table); the rest stay
// denials.
func TestMarkENOSYS(t *testing.T) {
	native := testProfile()
	compat := testProfile()
	compat.Syscalls["i386"] = map[string]string{"exit": "/bin/x"}
	compile := func(p *profiles.Profile) *seccomp.Filter {
		t.Helper()
		f, err := seccomp.Compile(p, seccomp.Options{Arch: linux.X86_64})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	fNative, fCompat := compile(native), compile(compat)
	tests := []struct {
		f    *seccomp.Filter
		d    Denial
		want bool
	}{
		{fNative, Denial{Name: "clone3", ABI: "x86_64", Nr: 435, Action: "ERRNO"}, true},
		{fCompat, Denial{Name: "clone3", ABI: "i386", Nr: 435, Action: "ERRNO"}, true},
		// Without i386 syscalls the whole ABI is EPERM, clone3 included.
		{fNative, Denial{Name: "clone3", ABI: "i386", Nr: 435, Action: "ERRNO"}, false},
		{fNative, Denial{Name: "", ABI: "x86_64", Nr: linux.MaxSyscall(linux.X86_64) + 1, Action: "ERRNO"}, true},
		{fNative, Denial{Name: "file_setattr", ABI: "x86_64", Nr: 469, Action: "ERRNO"}, false},
		{fNative, Denial{Name: "ptrace", ABI: "x86_64", Nr: 101, Action: "ERRNO"}, false},
		{fNative, Denial{Name: "x32:435", ABI: "x32", Nr: 0x40000000 + 435, Action: "ERRNO"}, false},
		{fNative, Denial{Name: "clone3", ABI: "x86_64", Nr: 435, Action: "KILL_PROCESS"}, false},
	}
	for _, tt := range tests {
		ds := []Denial{tt.d}
		MarkENOSYS(ds, tt.f)
		if got := ds[0].ByDesign(); got != tt.want {
			t.Errorf("MarkENOSYS(%s %s %d %s): by design = %v, want %v", tt.d.ABI, tt.d.Name, tt.d.Nr, tt.d.Action, got, tt.want)
		}
	}
	d := Denial{Component: "c", Name: "clone3", ABI: "x86_64", Executable: "/bin/x", Action: ActionENOSYS, Count: 2}
	if s := d.String(); !strings.Contains(s, "answered ENOSYS as always") || !strings.Contains(s, "falls back to clone") {
		t.Errorf("String() = %q", s)
	}
}

func testProfile() *profiles.Profile {
	return &profiles.Profile{
		APIVersion: profiles.APIVersion,
		Component:  "c",
		Syscalls:   map[string]map[string]string{"x86_64": {"execve": "/bin/true"}},
		Capabilities: profiles.Capabilities{Needed: map[string]profiles.CapUse{
			"CAP_NET_BIND_SERVICE": {Granted: 1}, "CAP_CHOWN": {Granted: 1},
		}},
	}
}

func TestNewSpec(t *testing.T) {
	t.Setenv("LEASH_SPEC_TEST", "outer")
	tests := []struct {
		name    string
		edit    func(p *profiles.Profile)
		mode    Mode
		argv    []string
		check   func(t *testing.T, s *Spec)
		wantErr string
	}{
		{name: "private tmp implies a mount namespace", edit: func(p *profiles.Profile) {
			p.Run.Namespaces = []string{"net"}
			p.Run.PrivateTmp = true
		}, argv: []string{"/bin/true"}, check: func(t *testing.T, s *Spec) {
			if !reflect.DeepEqual(s.Namespaces, []string{"mnt", "net"}) {
				t.Errorf("namespaces = %v", s.Namespaces)
			}
		}},
		{name: "a pid namespace implies a mount namespace (a /proc of its own)", edit: func(p *profiles.Profile) {
			p.Run.Namespaces = []string{"pid"}
		}, argv: []string{"/bin/true"}, check: func(t *testing.T, s *Spec) {
			if !reflect.DeepEqual(s.Namespaces, []string{"mnt", "pid"}) {
				t.Errorf("namespaces = %v", s.Namespaces)
			}
		}},
		{name: "run.env replaces the caller's variable of that name", edit: func(p *profiles.Profile) {
			p.Run.Env = []string{"LEASH_SPEC_TEST=profile"}
		}, argv: []string{"/bin/true"}, check: func(t *testing.T, s *Spec) {
			var got []string
			for _, kv := range s.Env {
				if strings.HasPrefix(kv, "LEASH_SPEC_TEST=") {
					got = append(got, kv)
				}
			}
			if !reflect.DeepEqual(got, []string{"LEASH_SPEC_TEST=profile"}) {
				t.Errorf("LEASH_SPEC_TEST in env: %q, want the profile's alone", got)
			}
		}},
		{name: "caps sorted by number, not full in enforce", argv: []string{"/bin/true"}, mode: Enforce, check: func(t *testing.T, s *Spec) {
			if !reflect.DeepEqual(s.Caps, []int{0, 10}) || s.FullCaps {
				t.Errorf("caps = %v full %v", s.Caps, s.FullCaps)
			}
		}},
		{name: "complain keeps every capability", argv: []string{"/bin/true"}, mode: Complain, check: func(t *testing.T, s *Spec) {
			if !s.FullCaps {
				t.Error("FullCaps not set in complain mode")
			}
		}},
		{name: "clear env", edit: func(p *profiles.Profile) {
			p.Run.ClearEnv = true
			p.Run.Env = []string{"A=1"}
		}, argv: []string{"/bin/true"}, check: func(t *testing.T, s *Spec) {
			if !reflect.DeepEqual(s.Env, []string{"A=1"}) {
				t.Errorf("env = %v", s.Env)
			}
		}},
		{name: "env passed through", argv: []string{"/bin/true"}, check: func(t *testing.T, s *Spec) {
			found := false
			for _, kv := range s.Env {
				found = found || kv == "LEASH_SPEC_TEST=outer"
			}
			if !found {
				t.Error("environment not passed through")
			}
		}},
		{name: "numeric user", edit: func(p *profiles.Profile) { p.Run.User, p.Run.Group = "12345", "54321" },
			argv: []string{"/bin/true"}, check: func(t *testing.T, s *Spec) {
				if s.UID != 12345 || s.GID != 54321 {
					t.Errorf("ids = %d/%d", s.UID, s.GID)
				}
			}},
		{name: "user namespace refused", edit: func(p *profiles.Profile) { p.Run.Namespaces = []string{"user"} },
			argv: []string{"/bin/true"}, wantErr: `cannot create a "user" namespace`},
		{name: "unknown user", edit: func(p *profiles.Profile) { p.Run.User = "no-such-user-leash" },
			argv: []string{"/bin/true"}, wantErr: "run.user"},
		{name: "command not in PATH", argv: []string{"no-such-command-leash"}, wantErr: "not found in PATH"},
		{name: "found in PATH", argv: []string{"true"}, check: func(t *testing.T, s *Spec) {
			if !strings.HasSuffix(s.Path, "/true") || s.Argv[0] != "true" {
				t.Errorf("path %q argv %q", s.Path, s.Argv)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testProfile()
			if tt.edit != nil {
				tt.edit(p)
			}
			mode := tt.mode
			if mode == "" {
				mode = Enforce
			}
			s, err := NewSpec(p, mode, tt.argv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestNotFoundIsExit127(t *testing.T) {
	_, err := NewSpec(testProfile(), Enforce, []string{"no-such-command-leash"})
	var ee *ExecError
	if !errors.As(err, &ee) || ee.Code() != 127 {
		t.Errorf("err = %v, want an ExecError with code 127", err)
	}
	if (&ExecError{Errno: syscall.EACCES}).Code() != 126 {
		t.Error("EACCES is not 126")
	}
}

func TestNeedsExecve(t *testing.T) {
	p := testProfile()
	if err := NeedsExecve(p, linux.X86_64); err != nil {
		t.Errorf("profile with execve: %v", err)
	}
	delete(p.Syscalls["x86_64"], "execve")
	if err := NeedsExecve(p, linux.X86_64); !errors.Is(err, ErrExecve) {
		t.Errorf("profile without execve: %v", err)
	}
}

func TestExplainExec(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := explainExec(plain, syscall.EACCES, 0); got != "no execute permission" {
		t.Errorf("non-executable file: %q", got)
	}
	if got := explainExec(dir, syscall.EACCES, 0); got != "is a directory" {
		t.Errorf("directory: %q", got)
	}
	// An executable in a directory only its owner may enter, run as
	// another uid (as python3 under /root, run as nobody).
	closed := filepath.Join(dir, "closed")
	if err := os.Mkdir(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(closed, "exe")
	if err := os.WriteFile(exe, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	other := os.Getuid() + 1
	want := fmt.Sprintf("uid %d may not search the directory %s on its path", other, closed)
	if got := explainExec(exe, syscall.EACCES, other); got != want {
		t.Errorf("closed directory: %q, want %q", got, want)
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{`/a\040b`: "/a b", `/plain`: "/plain", `/t\011x\134`: "/t\tx\\"} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
	for mp, want := range map[string]bool{"/dev": true, "/dev/shm": true, "/proc/sys": true, "/sys": true, "/devices": false, "/": false, "/usr": false} {
		if apiFS(mp) != want {
			t.Errorf("apiFS(%q) = %v", mp, !want)
		}
	}
}

// TestPlanOrder checks the order of the steps the child will take, as the
// package documentation gives it, from the plan's descriptions.
func TestPlanOrder(t *testing.T) {
	p := testProfile()
	p.Run = profiles.RunOptions{User: "65534", Group: "65534", Namespaces: []string{"ipc", "mnt", "net", "pid", "uts"},
		PrivateTmp: true, ProtectSystem: "strict", ProtectHome: true}
	s, err := NewSpec(p, Enforce, []string{"/bin/true"})
	if err != nil {
		t.Fatal(err)
	}
	s.Filter = make([]byte, 8)
	s.KeepFDs = []int{7}
	pl, err := newPlan(s, 8, 9, true)
	if err != nil {
		t.Fatal(err)
	}
	var setup, creds []string
	for _, o := range pl.setup {
		setup = append(setup, pl.what[o.idx])
	}
	for _, o := range pl.creds {
		creds = append(creds, pl.what[o.idx])
	}
	index := func(list []string, prefix string) int {
		for i, w := range list {
			if strings.HasPrefix(w, prefix) {
				return i
			}
		}
		t.Fatalf("no step %q in %q", prefix, list)
		return -1
	}
	before := func(list []string, a, b string) {
		if index(list, a) >= index(list, b) {
			t.Errorf("%q does not come before %q: %q", a, b, list)
		}
	}
	before(setup, "start a new session", "make / private")
	before(setup, "make / private", "mount /proc")
	before(setup, "protect system: make every mount read-only", "protect system: keep /proc writable")
	before(setup, "protect system: make every mount read-only", "private tmp: mount tmpfs on /tmp")
	before(setup, "protect system: make every mount read-only", "protect home")
	before(setup, "private tmp: mount tmpfs on /tmp", "private devices: mount tmpfs on /dev")
	before(setup, "private devices: mount tmpfs on /dev", "private devices: create /dev/null")
	before(setup, "private devices: link /dev/stderr", "private devices: make /dev read-only")
	before(setup, "mount /proc for the PID namespace", "protect kernel tunables: bind /proc/sys")
	before(setup, "private devices: make /dev read-only", "protect kernel tunables: make /sys read-only")
	before(setup, "bring up lo", "mark descriptors close-on-exec")
	before(setup, "mark descriptors close-on-exec", "keep descriptor 7")
	before(creds, "drop CAP_DAC_OVERRIDE from the bounding set", "setresuid")
	before(creds, "keep capabilities across setuid", "setresuid")
	// Groups are cleared when leash has some (setgroups needs CAP_SETGID
	// even for an empty list, which a nested leash run may lack).
	if groups, _ := unix.Getgroups(); len(groups) > 0 {
		before(creds, "clear supplementary groups", "setresgid")
	} else if slices.Contains(creds, "clear supplementary groups") {
		t.Errorf("clears supplementary groups it does not have: %q", creds)
	}
	before(creds, "setresgid", "setresuid")
	before(creds, "setresuid", "set capabilities")
	before(creds, "set capabilities", "raise ambient CAP_NET_BIND_SERVICE")
	if last := creds[len(creds)-1]; last != "set no_new_privs" {
		t.Errorf("last credential step is %q, want set no_new_privs", last)
	}
	for _, w := range creds {
		if w == "drop CAP_CHOWN from the bounding set" || w == "drop CAP_NET_BIND_SERVICE from the bounding set" {
			t.Errorf("needed capability dropped: %q", w)
		}
	}
	if !pl.pidns || pl.tail.prog.len != 1 {
		t.Errorf("pidns %v, filter length %d", pl.pidns, pl.tail.prog.len)
	}
}

// TestRunRefusesReplacedExe: a file renamed onto the command's path after
// leash identified (and hashed) the one there is refused by the target
// just before its execve, with exit 126; the file left in place runs.
func TestRunRefusesReplacedExe(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	exe := filepath.Join(dir, "cmd")
	for _, c := range []struct{ from, to string }{{"/bin/true", exe}, {"/bin/false", exe + ".new"}} {
		data, err := os.ReadFile(c.from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(c.to, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	identify := func() *FileID {
		f, err := os.Open(exe)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		id, err := Identify(f)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	run := func(id *FileID) *Result {
		s := &Spec{Path: exe, Argv: []string{exe}, Env: os.Environ(), UID: 0, GID: 0, Exe: id}
		res, err := Run(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := run(identify()); res.Err != nil || res.Code != 0 {
		t.Fatalf("the identified file: exit %d, %v; want 0", res.Code, res.Err)
	}
	id := identify()
	if err := os.Rename(exe+".new", exe); err != nil {
		t.Fatal(err)
	}
	res := run(id)
	var ee *ExecError
	if !errors.As(res.Err, &ee) || res.Code != 126 || !strings.Contains(res.Err.Error(), "not the file whose sha256 leash checked") {
		t.Fatalf("replaced file: exit %d, %v; want 126 and a refusal", res.Code, res.Err)
	}
}

// TestInitFilter runs the init's filter in the BPF VM: its syscalls are
// allowed, and anything else it could be made to call once taken over
// kills it (and with it the PID namespace).
func TestInitFilter(t *testing.T) {
	b, err := initFilter()
	if err != nil {
		t.Fatal(err)
	}
	prog := make([]bpf.RawInstruction, len(b)/8)
	for i := range prog {
		prog[i] = bpf.RawInstruction{Op: binary.LittleEndian.Uint16(b[8*i:]), Jt: b[8*i+2], Jf: b[8*i+3], K: binary.LittleEndian.Uint32(b[8*i+4:])}
	}
	arch := HostArch()
	decide := func(name string) uint32 {
		nr, ok := linux.SyscallNumber(arch, name)
		if !ok {
			t.Fatalf("no syscall %s on %s", name, arch)
		}
		ret, _, err := seccomp.Emulate(prog, seccomp.Data{Nr: int32(nr), Arch: arch.AuditArch()})
		if err != nil {
			t.Fatal(err)
		}
		return ret
	}
	for _, name := range InitSyscalls {
		if got := decide(name); got != unix.SECCOMP_RET_ALLOW {
			t.Errorf("%s: %#x, want ALLOW", name, got)
		}
	}
	for _, name := range []string{"ptrace", "execve", "openat", "pidfd_getfd", "mount", "setresuid", "process_vm_writev", "mmap", "clone", "socket"} {
		if got := decide(name); got != unix.SECCOMP_RET_KILL_PROCESS {
			t.Errorf("%s: %#x, want KILL_PROCESS", name, got)
		}
	}
}

// TestMountLists: apiMounts keeps the writable API mounts, each once, the
// top mount of a path deciding; mountsOfType finds every mount of a type.
func TestMountLists(t *testing.T) {
	table := []mountEntry{
		{point: "/", writable: true, fstype: "ext4"},
		{point: "/proc", writable: true, fstype: "proc"},
		{point: "/sys", writable: false, fstype: "sysfs"},
		{point: "/sys/fs/bpf", writable: true, fstype: "bpf"},
		{point: "/dev", writable: false, fstype: "devtmpfs"},
		{point: "/dev", writable: true, fstype: "tmpfs"}, // on top: writable
		{point: "/proc", writable: false, fstype: "proc"}, // on top: read-only
		{point: "/run/cilium/bpffs", writable: true, fstype: "bpf"},
		{point: "/sys/fs/bpf", writable: true, fstype: "bpf"},
	}
	if got, want := apiMounts(table), []string{"/sys/fs/bpf", "/dev"}; !slices.Equal(got, want) {
		t.Errorf("apiMounts = %q, want %q", got, want)
	}
	if got, want := mountsOfType(table, "bpf"), []string{"/sys/fs/bpf", "/run/cilium/bpffs"}; !slices.Equal(got, want) {
		t.Errorf("mountsOfType(bpf) = %q, want %q", got, want)
	}
}
