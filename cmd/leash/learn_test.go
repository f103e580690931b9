package main

// Integration tests of `leash learn`: they train the real binary on small C
// programs (testdata/learn) that make known rare syscalls from every place a
// process can hide one, and check the profile has each with the right ABI,
// state and executable, and nothing that the program did not do. They need
// root and BPF; in CI (LEASH_REQUIRE_PRIVILEGED=1) they fail instead of
// skipping.

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/leash-project/leash/internal/testutil"
	"github.com/leash-project/leash/profiles"
)

const learnData = "../../testdata/learn"

// learnProgs are the compiled test programs.
type learnProgs struct {
	Prog, Helper string
}

// buildLearnProgs compiles testdata/learn/prog.c and helper.c.
func buildLearnProgs(t *testing.T) learnProgs {
	t.Helper()
	return learnProgs{
		Prog:   compileC(t, "prog", []string{filepath.Join(learnData, "prog.c")}, "-pthread"),
		Helper: compileC(t, "helper", []string{filepath.Join(learnData, "helper.c")}),
	}
}

// learn runs `leash learn -o DIR/name.yaml ARGS...` in dir and returns the
// result and the profile path.
func learn(t *testing.T, dir, name string, args ...string) (leashResult, string) {
	t.Helper()
	out := filepath.Join(dir, name+".yaml")
	res := runLeashCmd(t, leashCmd{Args: append([]string{"learn", "-o", out}, args...), Dir: dir})
	return res, out
}

// loadProfile loads a profile written by leash learn, failing the test with
// leash's output when it is missing or invalid.
func loadProfile(t *testing.T, path string, res leashResult) *profiles.Profile {
	t.Helper()
	p, err := profiles.Load(path)
	if err != nil {
		t.Fatalf("%v\nleash exit %d, stderr:\n%s", err, res.Code, res.Stderr)
	}
	if len(p.Provenance.Runs) != 1 {
		t.Fatalf("%s: %d provenance runs, want 1", path, len(p.Provenance.Runs))
	}
	return p
}

// namesExe reports whether by, a profile's "first executable", names the
// program at path: its full path or its base name.
func namesExe(by, path string) bool {
	return by == path || by == filepath.Base(path)
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// allRun is the shared training run of prog in mode all: most tests below
// assert on its one profile rather than pay a leash start-up each.
var allRun struct {
	once  sync.Once
	progs learnProgs
	cmd   []string // the command trained on
	res   leashResult
	path  string
}

// learnAll trains leash on `prog all helper` once and returns its profile.
func learnAll(t *testing.T) (*profiles.Profile, learnProgs, string) {
	t.Helper()
	testutil.RequireRoot(t)
	allRun.once.Do(func() {
		// A directory that outlives the first test to get here: later
		// tests hash the executables.
		dir := filepath.Join(binDir, "learn-all")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		allRun.progs = learnProgs{
			Prog:   compileIn(t, dir, "prog", filepath.Join(learnData, "prog.c"), "-pthread"),
			Helper: compileIn(t, dir, "helper", filepath.Join(learnData, "helper.c")),
		}
		// --linger: the daemon makes its syscall 300 ms after the program
		// exited.
		allRun.cmd = []string{allRun.progs.Prog, "all", allRun.progs.Helper}
		if ok, reason := testutil.IA32(); !ok {
			t.Logf("prog all without its ia32 calls: %s", reason)
			allRun.cmd = append(allRun.cmd, "noia32")
		}
		allRun.res, allRun.path = learn(t, dir, "all", append([]string{"--linger", "5s", "--"}, allRun.cmd...)...)
	})
	if allRun.path == "" {
		t.Fatal("training run of prog all did not run (see the first test that tried)")
	}
	if allRun.res.Code != 0 {
		t.Fatalf("leash learn -- prog all: exit %d, want 0 (prog exits 0 when every step worked)\nstderr:\n%s",
			allRun.res.Code, allRun.res.Stderr)
	}
	return loadProfile(t, allRun.path, allRun.res), allRun.progs, allRun.path
}

// compileIn is compileC into a given directory.
func compileIn(t testing.TB, dir, name, src string, flags ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	args := append([]string{"-O2", "-Wall", "-o", out, src}, flags...)
	if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// TestLearnSyscallsEverywhere: a rare syscall from each place a process can
// make one is in the profile, on its ABI, named by the right executable.
func TestLearnSyscallsEverywhere(t *testing.T) {
	p, progs, _ := learnAll(t)
	tests := []struct {
		name, abi, syscall, by string
	}{
		{"MainThread", "x86_64", "sched_get_priority_max", progs.Prog},
		{"SecondThread", "x86_64", "sched_get_priority_min", progs.Prog},
		{"ForkedGrandchild", "x86_64", "sched_rr_get_interval", progs.Prog},
		{"DaemonOutlivesParent", "x86_64", "getitimer", progs.Prog},
		{"VforkChild", "x86_64", "getsid", progs.Prog},
		{"ExecdProgram", "x86_64", "ioprio_get", progs.Helper},
		{"ExecFromThread", "x86_64", "getcpu", progs.Helper},
		{"IA32", "i386", "times", progs.Prog},
		{"IA32Socketcall", "i386", "socketcall", progs.Prog},
		{"IA32Socketpair", "i386", "socketpair", progs.Prog},
		// Nothing of CMD is missed between its execve and its first
		// instruction: the dynamic loader's first calls are there.
		{"LoaderBrk", "x86_64", "brk", progs.Prog},
		{"LoaderArchPrctl", "x86_64", "arch_prctl", progs.Prog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.abi == "i386" {
				testutil.RequireIA32(t)
			}
			by, ok := p.Syscalls[tt.abi][tt.syscall]
			if !ok {
				t.Fatalf("%s syscall %s missing from the profile; %s syscalls: %v",
					tt.abi, tt.syscall, tt.abi, slices.Sorted(maps.Keys(p.Syscalls[tt.abi])))
			}
			if !namesExe(by, tt.by) {
				t.Errorf("%s syscall %s made first by %q, want %s", tt.abi, tt.syscall, by, tt.by)
			}
		})
	}
}

// TestLearnABIsApart: the ia32 calls are recorded as i386 names only, and
// never under the x86_64 name of the same number. On a kernel with IA32
// emulation off the program makes none, and the profile must have none.
func TestLearnABIsApart(t *testing.T) {
	p, _, _ := learnAll(t)
	got := slices.Sorted(maps.Keys(p.Syscalls["i386"]))
	want := []string{"socketcall", "socketpair", "times"}
	if ok, _ := testutil.IA32(); !ok {
		want = nil
	}
	if !slices.Equal(got, want) {
		t.Errorf("i386 syscalls = %v, want exactly %v (the program's only int 0x80 calls)", got, want)
	}
	// x86_64 43 is accept and 102 is getuid: the i386 numbers read with
	// the wrong table (prog and its loader never call either natively).
	// times and socketcall are never made natively.
	for _, name := range []string{"accept", "getuid", "times", "socketcall"} {
		if _, ok := p.Syscalls["x86_64"][name]; ok {
			t.Errorf("x86_64 syscall %s in the profile; the program never makes it natively", name)
		}
	}
}

// TestLearnAbsent: syscalls the program never makes, leash's own included,
// are not in the profile.
func TestLearnAbsent(t *testing.T) {
	p, _, _ := learnAll(t)
	absent := []string{
		"bpf", "perf_event_open", // leash's BPF setup
		// Go's runtime and os/exec in leash, and its pre-exec child.
		"sigaltstack", "epoll_create1", "epoll_pwait", "epoll_ctl", "pidfd_open", "pidfd_send_signal",
		"waitid", "sched_getaffinity", "prctl", "fcntl", "dup3",
		// Never made by anyone here.
		"ptrace", "kexec_load", "init_module", "reboot", "swapon",
		// prog's other modes (term, inner).
		"sched_getscheduler", "sched_getparam",
	}
	for _, name := range absent {
		t.Run(name, func(t *testing.T) {
			for abi, calls := range p.Syscalls {
				if by, ok := calls[name]; ok {
					t.Errorf("%s syscall %s in the profile (by %s); the program never makes it", abi, name, by)
				}
			}
		})
	}
}

// TestLearnSocketFamilies: each family opened has exactly its types (flags
// stripped), i386 socketcall included; no other family appears.
func TestLearnSocketFamilies(t *testing.T) {
	p, progs, _ := learnAll(t)
	want := map[string][]string{
		"AF_UNIX":    {"SOCK_DGRAM", "SOCK_STREAM"}, // i386 socketpair; socketpair
		"AF_INET":    {"SOCK_DGRAM"},                // socket
		"AF_INET6":   {"SOCK_DGRAM", "SOCK_STREAM"}, // i386 socketcall; NONBLOCK|CLOEXEC stream
		"AF_NETLINK": {"SOCK_DGRAM", "SOCK_RAW"},    // uevent (CLOEXEC); route
	}
	if ok, _ := testutil.IA32(); !ok {
		// No i386 calls: the datagram sockets they open are not there.
		want["AF_UNIX"] = []string{"SOCK_STREAM"}
		want["AF_INET6"] = []string{"SOCK_STREAM"}
	}
	protocols := map[string][]string{"AF_NETLINK": {"NETLINK_KOBJECT_UEVENT", "NETLINK_ROUTE"}}
	for fam, types := range want {
		t.Run(fam, func(t *testing.T) {
			f, ok := p.Families[fam]
			if !ok {
				t.Fatalf("family %s missing; families: %v", fam, p.Families)
			}
			got := slices.Clone(f.Types)
			sort.Strings(got)
			if !slices.Equal(got, types) {
				t.Errorf("%s types = %v, want %v", fam, f.Types, types)
			}
			gotp := slices.Clone(f.Protocols)
			sort.Strings(gotp)
			if !slices.Equal(gotp, protocols[fam]) {
				t.Errorf("%s protocols = %v, want %v", fam, f.Protocols, protocols[fam])
			}
			if f.By != "" && !namesExe(f.By, progs.Prog) {
				t.Errorf("%s first used by %q, want %s", fam, f.By, progs.Prog)
			}
		})
	}
	t.Run("NoOthers", func(t *testing.T) {
		for fam := range p.Families {
			if _, ok := want[fam]; !ok {
				t.Errorf("family %s in the profile; the program never opens it", fam)
			}
		}
	})
}

// TestLearnCapabilities: a granted, a denied and a silent (noaudit) check,
// each sorted where it belongs.
func TestLearnCapabilities(t *testing.T) {
	p, progs, _ := learnAll(t)
	c := p.Capabilities
	t.Run("Granted", func(t *testing.T) {
		u, ok := c.Needed["CAP_NET_BIND_SERVICE"]
		if !ok {
			t.Fatalf("CAP_NET_BIND_SERVICE (bind [::1]:80 as root) not needed; needed: %v", c.Needed)
		}
		if u.Granted == 0 {
			t.Errorf("CAP_NET_BIND_SERVICE granted count 0")
		}
		if !namesExe(u.By, progs.Prog) {
			t.Errorf("CAP_NET_BIND_SERVICE checked first by %q, want %s", u.By, progs.Prog)
		}
	})
	t.Run("Denied", func(t *testing.T) {
		u, ok := c.Denied["CAP_CHOWN"]
		if !ok {
			t.Fatalf("CAP_CHOWN (fchown without it in the effective set) not denied; denied: %v", c.Denied)
		}
		if u.Denied == 0 || u.Granted != 0 {
			t.Errorf("CAP_CHOWN counts granted %d denied %d, want 0 and more than 0", u.Granted, u.Denied)
		}
		if _, ok := c.Needed["CAP_CHOWN"]; ok {
			t.Errorf("CAP_CHOWN needed, but it was only ever denied")
		}
	})
	t.Run("Noaudit", func(t *testing.T) {
		if u, ok := c.Needed["CAP_SYS_ADMIN"]; ok {
			t.Errorf("CAP_SYS_ADMIN needed (%+v): the mmap probe is a noaudit check", u)
		}
		if u, ok := c.Denied["CAP_SYS_ADMIN"]; ok {
			t.Errorf("CAP_SYS_ADMIN denied (%+v): root has it, and the probe is noaudit", u)
		}
		if _, ok := c.Noaudit["CAP_SYS_ADMIN"]; !ok {
			t.Errorf("CAP_SYS_ADMIN not in noaudit (every private writable mmap probes it); noaudit: %v", c.Noaudit)
		}
	})
}

// TestLearnProvenance: the run and every executable, with its digest.
func TestLearnProvenance(t *testing.T) {
	p, progs, _ := learnAll(t)
	run := p.Provenance.Runs[0]
	if want := allRun.cmd; !slices.Equal(run.Command, want) {
		t.Errorf("command = %q, want %q", run.Command, want)
	}
	if run.User != "root" {
		t.Errorf("user = %q, want root", run.User)
	}
	if run.ExitCode != 0 {
		t.Errorf("exitCode = %d, want 0", run.ExitCode)
	}
	if len(run.Incomplete) != 0 {
		t.Errorf("run marked incomplete: %q", run.Incomplete)
	}
	if len(run.Methods) == 0 {
		t.Errorf("no hook methods recorded")
	}
	if run.Kernel == "" || run.Leash == "" || run.Started == "" {
		t.Errorf("kernel %q, leash %q, started %q: want all set", run.Kernel, run.Leash, run.Started)
	}
	// prog, its grandchild's parent, the grandchild, the vfork child,
	// helper, the thread-exec child, the denied child, the daemon's parent
	// and the daemon.
	if run.Processes < 9 {
		t.Errorf("processes = %d, want at least 9", run.Processes)
	}
	t.Logf("methods: %v; processes %d", run.Methods, run.Processes)
	for _, exe := range []string{progs.Prog, progs.Helper} {
		t.Run(filepath.Base(exe), func(t *testing.T) {
			i := slices.IndexFunc(p.Provenance.Executables, func(e profiles.Executable) bool { return e.Path == exe })
			if i < 0 {
				t.Fatalf("%s not among the executables: %+v", exe, p.Provenance.Executables)
			}
			if got, want := p.Provenance.Executables[i].SHA256, sha256File(t, exe); got != want {
				t.Errorf("%s sha256 = %s, want %s", exe, got, want)
			}
		})
	}
}

// TestLearnShowJSON: leash show --json gives the documented keys.
func TestLearnShowJSON(t *testing.T) {
	_, _, path := learnAll(t)
	res := runLeash(t, "show", "--json", path)
	if res.Code != 0 {
		t.Fatalf("leash show --json: exit %d\n%s", res.Code, res.Stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(res.Stdout), &got); err != nil {
		t.Fatalf("leash show --json: %v\n%s", err, res.Stdout)
	}
	tests := []struct {
		key, name string // name: "" to check only that the key is there
	}{
		{"syscalls", "sched_get_priority_max"},
		{"compatSyscalls", "socketcall"},
		{"capabilities", "CAP_NET_BIND_SERVICE"},
		{"noauditCapabilities", "CAP_SYS_ADMIN"},
		{"deniedCapabilities", "CAP_CHOWN"},
		{"families", "AF_NETLINK"},
		{"socketTypes", ""},
		{"namespaces", ""},
	}
	ia32, _ := testutil.IA32()
	for _, tt := range tests {
		if tt.key == "compatSyscalls" && !ia32 {
			tt.name = "" // no i386 calls on this kernel: only the key
		}
		t.Run(tt.key, func(t *testing.T) {
			v, ok := got[tt.key]
			if !ok {
				t.Fatalf("key %q missing from leash show --json", tt.key)
			}
			if tt.name != "" && !jsonHas(v, tt.name) {
				t.Errorf("%s = %v, want it to contain %s", tt.key, v, tt.name)
			}
		})
	}
	if jsonHas(got["syscalls"], "times") {
		t.Errorf("syscalls (x86_64) contains the i386-only times: %v", got["syscalls"])
	}
	if jsonHas(got["capabilities"], "CAP_SYS_ADMIN") {
		t.Errorf("capabilities (needed) contains CAP_SYS_ADMIN: %v", got["capabilities"])
	}
}

// jsonHas reports whether a decoded JSON list has name as an element, or a
// decoded JSON object has it as a key.
func jsonHas(v any, name string) bool {
	switch v := v.(type) {
	case []any:
		return slices.Contains(v, any(name))
	case map[string]any:
		_, ok := v[name]
		return ok
	}
	return false
}

// TestLearnRelativeExec: a program exec'd by a relative path, from another
// working directory, and gone at once, is still named by its absolute path
// and hashed.
func TestLearnRelativeExec(t *testing.T) {
	testutil.RequireRoot(t)
	progs := buildLearnProgs(t)
	dir := filepath.Dir(progs.Helper)
	res, path := learn(t, t.TempDir(), "rel", "--", "/bin/sh", "-c", "cd "+dir+" && ./helper")
	if res.Code != 0 {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", res.Code, res.Stderr)
	}
	p := loadProfile(t, path, res)
	if by := p.Syscalls["x86_64"]["ioprio_get"]; !namesExe(by, progs.Helper) {
		t.Errorf("ioprio_get made first by %q, want %s", by, progs.Helper)
	}
	i := slices.IndexFunc(p.Provenance.Executables, func(e profiles.Executable) bool { return e.Path == progs.Helper })
	if i < 0 {
		t.Fatalf("%s not among the executables: %+v\nstderr:\n%s", progs.Helper, p.Provenance.Executables, res.Stderr)
	}
	if got, want := p.Provenance.Executables[i].SHA256, sha256File(t, progs.Helper); got != want {
		t.Errorf("sha256 = %s, want %s", got, want)
	}
}

// TestLearnLongExecPath: an executable whose path is longer than a short
// fixed buffer (300 bytes here; PATH_MAX is 4096) is named and hashed by
// its whole path, not a truncated one.
func TestLearnLongExecPath(t *testing.T) {
	testutil.RequireRoot(t)
	progs := buildLearnProgs(t)
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 120), strings.Repeat("e", 120), strings.Repeat("f", 40))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(dir, "helper")
	copyExecutable(t, progs.Helper, helper)
	res, path := learn(t, t.TempDir(), "long", "--", helper)
	if res.Code != 0 {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", res.Code, res.Stderr)
	}
	p := loadProfile(t, path, res)
	if by := p.Syscalls["x86_64"]["ioprio_get"]; !namesExe(by, helper) {
		t.Errorf("ioprio_get made first by %q (%d bytes), want %s (%d bytes)", by, len(by), helper, len(helper))
	}
	i := slices.IndexFunc(p.Provenance.Executables, func(e profiles.Executable) bool { return e.Path == helper })
	if i < 0 {
		t.Fatalf("%s not among the executables: %+v\nstderr:\n%s", helper, p.Provenance.Executables, res.Stderr)
	}
	if got, want := p.Provenance.Executables[i].SHA256, sha256File(t, helper); got != want {
		t.Errorf("sha256 = %s, want %s", got, want)
	}
}

// TestLearnConcurrentSessions: two leash learn sessions at once each get
// their own program's syscalls and not the other's.
func TestLearnConcurrentSessions(t *testing.T) {
	testutil.RequireRoot(t)
	progs := buildLearnProgs(t)
	dir := t.TempDir()
	// A waits in prog term until told; B runs prog inner meanwhile.
	pathA := filepath.Join(dir, "a.yaml")
	var resB leashResult
	var pathB string
	resA := signalLeashAfter(t, dir, syscall.SIGTERM, func() {
		resB, pathB = learn(t, dir, "b", "--", progs.Prog, "inner")
	}, "learn", "-o", pathA, "--", progs.Prog, "term")
	if resA.Code != 42 || resB.Code != 0 {
		t.Fatalf("exits %d and %d, want 42 and 0\nstderr A:\n%s\nstderr B:\n%s", resA.Code, resB.Code, resA.Stderr, resB.Stderr)
	}
	a := loadProfile(t, pathA, resA).Syscalls["x86_64"]
	b := loadProfile(t, pathB, resB).Syscalls["x86_64"]
	if _, ok := a["sched_getscheduler"]; !ok {
		t.Errorf("A lacks its own sched_getscheduler")
	}
	if _, ok := a["sched_getparam"]; ok {
		t.Errorf("A has B's sched_getparam")
	}
	if _, ok := b["sched_getparam"]; !ok {
		t.Errorf("B lacks its own sched_getparam")
	}
	if _, ok := b["sched_getscheduler"]; ok {
		t.Errorf("B has A's sched_getscheduler")
	}
}

// TestLearnNamespaces: every way into a namespace (unshare, clone, clone3's
// struct in user memory, setns) is recorded, and nothing else; the same
// CAP_SYS_ADMIN that mmap only probes is needed here, audited.
func TestLearnNamespaces(t *testing.T) {
	testutil.RequireRoot(t)
	progs := buildLearnProgs(t)
	res, path := learn(t, t.TempDir(), "ns", "--", progs.Prog, "ns")
	if res.Code != 0 {
		t.Fatalf("leash learn -- prog ns: exit %d\nstderr:\n%s", res.Code, res.Stderr)
	}
	p := loadProfile(t, path, res)
	got := slices.Sorted(slices.Values(p.Namespaces))
	if want := []string{"ipc", "mnt", "net", "time", "uts"}; !slices.Equal(got, want) {
		t.Errorf("namespaces = %v, want %v", got, want)
	}
	if _, ok := p.Capabilities.Needed["CAP_SYS_ADMIN"]; !ok {
		t.Errorf("CAP_SYS_ADMIN not needed, but unshare and setns check it audited; needed: %v", p.Capabilities.Needed)
	}
}

// TestLearnTrue: a plain /bin/true needs no capability; the silent
// CAP_SYS_ADMIN probe of its mmaps is not needed.
func TestLearnTrue(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	res, path := learn(t, dir, "true", "--", "/bin/true")
	if res.Code != 0 {
		t.Fatalf("leash learn -- /bin/true: exit %d\n%s", res.Code, res.Stderr)
	}
	p := loadProfile(t, path, res)
	// The hooks in use are said on stderr, as the profile records them.
	said := fmt.Sprintf("leash: hooks in use: syscalls %s, capability checks %s,",
		p.Provenance.Runs[0].Methods["syscalls"], p.Provenance.Runs[0].Methods["capabilities"])
	if !strings.Contains(res.Stderr, said) {
		t.Errorf("stderr does not say which hooks record (want %q):\n%s", said, res.Stderr)
	}
	// Written atomically: no temporary file left beside the profile.
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 1 {
		t.Errorf("%s holds %v (err %v), want only true.yaml", dir, ents, err)
	}
	if u, ok := p.Capabilities.Needed["CAP_SYS_ADMIN"]; ok {
		t.Errorf("/bin/true needs CAP_SYS_ADMIN (%+v)", u)
	}
	if len(p.Capabilities.Needed) != 0 {
		t.Errorf("/bin/true needs capabilities: %v", p.Capabilities.Needed)
	}
	for _, name := range []string{"brk", "exit_group"} {
		if _, ok := p.Syscalls["x86_64"][name]; !ok {
			t.Errorf("/bin/true: %s missing from %v", name, slices.Sorted(maps.Keys(p.Syscalls["x86_64"])))
		}
	}
	for _, name := range []string{"bpf", "perf_event_open", "sigaltstack", "pidfd_open", "socket"} {
		if _, ok := p.Syscalls["x86_64"][name]; ok {
			t.Errorf("/bin/true: %s in the profile", name)
		}
	}
	if len(p.Syscalls["i386"]) != 0 {
		t.Errorf("/bin/true: i386 syscalls %v", p.Syscalls["i386"])
	}
}

// TestLearnManyProcesses: more short-lived processes than the kernel's task
// table holds (bpf/leash.bpf.c MAX_TASKS, 65536 when written) and than
// pid_max (tids are reused) are all counted, and an exited task frees its
// slot: the run is complete.
func TestLearnManyProcesses(t *testing.T) {
	testutil.RequireRoot(t)
	progs := buildLearnProgs(t)
	const n = 70000
	res, path := learn(t, t.TempDir(), "forks", "--", progs.Prog, "forks", fmt.Sprint(n))
	if res.Code != 0 {
		t.Fatalf("leash learn -- prog forks %d: exit %d\nstderr:\n%s", n, res.Code, res.Stderr)
	}
	run := loadProfile(t, path, res).Provenance.Runs[0]
	if len(run.Incomplete) != 0 {
		t.Errorf("run marked incomplete: %q", run.Incomplete)
	}
	if run.Processes < n+1 {
		t.Errorf("processes = %d, want at least %d", run.Processes, n+1)
	}
}

// TestLearnExitStatus: leash exits with the program's status, 128+signal
// when it was killed, and the profile records it.
func TestLearnExitStatus(t *testing.T) {
	testutil.RequireRoot(t)
	progs := buildLearnProgs(t)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"Exit7", []string{"exit", "7"}, 7},
		{"Exit0", []string{"exit", "0"}, 0},
		{"KilledBySIGKILL", []string{"kill"}, 128 + int(syscall.SIGKILL)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, path := learn(t, t.TempDir(), "p", append([]string{"--", progs.Prog}, tt.args...)...)
			if res.Code != tt.want {
				t.Errorf("leash exit %d, want %d\nstderr:\n%s", res.Code, tt.want, res.Stderr)
			}
			p := loadProfile(t, path, res)
			if got := p.Provenance.Runs[0].ExitCode; got != tt.want {
				t.Errorf("profile exitCode %d, want %d", got, tt.want)
			}
		})
	}
}

// TestLearnForwardsSignals: SIGTERM or SIGINT to leash reaches the
// program, whose handler makes one more syscall and exits 42; the profile is
// complete.
func TestLearnForwardsSignals(t *testing.T) {
	testutil.RequireRoot(t)
	progs := buildLearnProgs(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "term.yaml")
			res := signalLeash(t, dir, sig, "learn", "-o", path, "--", progs.Prog, "term")
			if res.Code != 42 {
				t.Errorf("leash exit %d, want 42 (the program's signal handler)\nstderr:\n%s", res.Code, res.Stderr)
			}
			p := loadProfile(t, path, res)
			if _, ok := p.Syscalls["x86_64"]["sched_getscheduler"]; !ok {
				t.Errorf("the handler's sched_getscheduler is missing: the signal was not forwarded or the profile is incomplete")
			}
			if got := p.Provenance.Runs[0].ExitCode; got != 42 {
				t.Errorf("profile exitCode %d, want 42", got)
			}
		})
	}
}

// signalLeash starts leash with args in dir, waits for the program to print
// "ready", sends sig to leash, and returns how leash ended.
func signalLeash(t *testing.T, dir string, sig syscall.Signal, args ...string) leashResult {
	t.Helper()
	return signalLeashAfter(t, dir, sig, func() {}, args...)
}

// signalLeashAfter is signalLeash that calls meanwhile between "ready" and
// the signal.
func signalLeashAfter(t *testing.T, dir string, sig syscall.Signal, meanwhile func(), args ...string) leashResult {
	t.Helper()
	cmd := exec.Command(leashBin(t), args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var killed atomic.Bool
	timer := time.AfterFunc(time.Minute, func() { killed.Store(true); cmd.Process.Kill() })
	defer timer.Stop()
	// Leave nothing running when the test fails half-way.
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			if sc.Text() == "ready" && !found {
				found = true
				ready <- true
			}
		}
		if !found {
			ready <- false
		}
		io.Copy(io.Discard, stdout)
	}()
	if !<-ready {
		cmd.Wait()
		t.Fatalf("program never said ready; leash stderr:\n%s", stderr.String())
	}
	meanwhile()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if killed.Load() {
		t.Fatalf("leash did not exit within a minute of %v; stderr:\n%s", sig, stderr.String())
	}
	return leashResult{Stderr: stderr.String(), Code: exitStatus(cmd.ProcessState)}
}

// TestLearnLingerExpires: a process still running when --linger runs out
// makes the run incomplete, in the profile and on stderr: never silent.
func TestLearnLingerExpires(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	res, path := learn(t, dir, "linger", "--linger", "300ms", "--",
		"/bin/sh", "-c", "sleep 5 >/dev/null 2>&1 & exit 0")
	if res.Code != 0 {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", res.Code, res.Stderr)
	}
	run := loadProfile(t, path, res).Provenance.Runs[0]
	if len(run.Incomplete) == 0 {
		t.Errorf("run not marked incomplete though sleep outlived --linger")
	}
	if !strings.Contains(res.Stderr, "incomplete") {
		t.Errorf("stderr does not say the run is incomplete: %q", res.Stderr)
	}
}

// TestLearnUser: --user runs the program unprivileged and records the
// checks that only an unprivileged run hits.
func TestLearnUser(t *testing.T) {
	testutil.RequireRoot(t)
	dir := worldDir(t)
	prog := compileIn(t, dir, "prog", filepath.Join(learnData, "prog.c"), "-pthread")
	res, path := learn(t, dir, "nobody", "--user", "nobody", "--", prog, "unpriv")
	if res.Code != 0 {
		t.Fatalf("leash learn --user nobody -- prog unpriv: exit %d, want 0\nstderr:\n%s", res.Code, res.Stderr)
	}
	p := loadProfile(t, path, res)
	if u := p.Provenance.Runs[0].User; u != "nobody" {
		t.Errorf("run user = %q, want nobody", u)
	}
	// setuid(0) checks CAP_SETUID; opening /etc/shadow checks
	// CAP_DAC_OVERRIDE then CAP_DAC_READ_SEARCH; all audited, all denied
	// to nobody.
	for _, c := range []string{"CAP_SETUID", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH"} {
		u, ok := p.Capabilities.Denied[c]
		if !ok {
			t.Errorf("%s not denied; denied: %v", c, p.Capabilities.Denied)
			continue
		}
		if u.Granted != 0 || u.Denied == 0 {
			t.Errorf("%s counts granted %d denied %d", c, u.Granted, u.Denied)
		}
	}
	if len(p.Capabilities.Needed) != 0 {
		t.Errorf("nobody needs capabilities: %v (leash's own switch to nobody must not count)", p.Capabilities.Needed)
	}
	// nobody's mmaps fail the silent CAP_SYS_ADMIN probe: noaudit, not
	// denied.
	if u, ok := p.Capabilities.Denied["CAP_SYS_ADMIN"]; ok {
		t.Errorf("CAP_SYS_ADMIN denied (%+v): nobody's only CAP_SYS_ADMIN checks are the silent mmap probe", u)
	}
	if _, ok := p.Capabilities.Noaudit["CAP_SYS_ADMIN"]; !ok {
		t.Errorf("CAP_SYS_ADMIN not in noaudit; noaudit: %v", p.Capabilities.Noaudit)
	}
	for _, name := range []string{"setgroups", "setresuid", "setresgid", "setgid"} {
		if _, ok := p.Syscalls["x86_64"][name]; ok {
			t.Errorf("%s in the profile: leash's own switch to nobody was recorded", name)
		}
	}
	if _, ok := p.Syscalls["x86_64"]["setuid"]; !ok {
		t.Errorf("the program's own setuid(0) is missing")
	}
}

// TestLearnNested: a component that trains another with a nested leash
// learn gets the inner program in the inner profile only, whether the inner
// leash is the same binary as the outer one or another (an installed leash,
// another version).
func TestLearnNested(t *testing.T) {
	testutil.RequireRoot(t)
	dir := worldDir(t)
	prog := compileIn(t, dir, "prog", filepath.Join(learnData, "prog.c"), "-pthread")
	script, err := filepath.Abs(filepath.Join(learnData, "nested.sh"))
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other-leash")
	copyExecutable(t, leashBin(t), other)
	tests := []struct{ name, innerLeash, how string }{
		{"SameBinary", leashBin(t), profiles.HandoffLeash},
		{"OtherBinary", other, profiles.HandoffAnnounced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			inner := filepath.Join(out, "inner.yaml")
			outer := filepath.Join(out, "outer.yaml")
			res := runLeashCmd(t, leashCmd{
				Args: []string{"learn", "--component", "outer", "-o", outer, "--", "/bin/sh", script},
				Dir:  out,
				Env:  []string{"LEASH=" + tt.innerLeash, "PROG=" + prog, "INNER_PROFILE=" + inner},
			})
			if res.Code != 0 {
				t.Fatalf("outer leash learn: exit %d\nstderr:\n%s", res.Code, res.Stderr)
			}
			pi := loadProfile(t, inner, res)
			po := loadProfile(t, outer, res)
			if pi.Component != "inner" || po.Component != "outer" {
				t.Errorf("components %q and %q, want inner and outer", pi.Component, po.Component)
			}
			if by, ok := pi.Syscalls["x86_64"]["sched_getparam"]; !ok {
				t.Errorf("inner profile lacks the inner program's sched_getparam")
			} else if !namesExe(by, prog) {
				t.Errorf("inner sched_getparam by %q, want %s", by, prog)
			}
			for _, name := range []string{"sched_getparam", "bpf", "perf_event_open"} {
				if by, ok := po.Syscalls["x86_64"][name]; ok {
					t.Errorf("outer profile has %s (by %s): the inner subtree leaked into it", name, by)
				}
			}
			for _, e := range po.Provenance.Executables {
				if e.Path == prog {
					t.Errorf("outer profile lists the inner program %s among its executables", prog)
				}
				if !filepath.IsAbs(e.Path) || strings.HasPrefix(e.Path, "/proc/") {
					t.Errorf("outer profile lists executable %q: not a path a reviewer can check", e.Path)
				}
			}
			if _, ok := po.Syscalls["x86_64"]["wait4"]; !ok {
				t.Errorf("outer profile lacks the shell's own wait4: %v", slices.Sorted(maps.Keys(po.Syscalls["x86_64"])))
			}
			// The handoff is visible: the same binary is known by its
			// inode and trusted; another announced itself, which any
			// program can do, so the run is incomplete.
			want := []profiles.Handoff{{Executable: tt.innerLeash, How: tt.how}}
			if got := po.Handoffs(); !reflect.DeepEqual(got, want) {
				t.Errorf("outer handoffs %+v, want %+v", got, want)
			}
			if po.Incomplete() != (tt.how == profiles.HandoffAnnounced) {
				t.Errorf("outer profile incomplete = %v (%q), want %v", po.Incomplete(), po.Provenance.Runs[0].Incomplete, tt.how == profiles.HandoffAnnounced)
			}
			if !strings.Contains(res.Stderr, tt.innerLeash) || !strings.Contains(res.Stderr, "provenance handoffs") {
				t.Errorf("no note on the handoff of %s on stderr:\n%s", tt.innerLeash, res.Stderr)
			}
			if len(pi.Handoffs()) != 0 {
				t.Errorf("inner handoffs %+v, want none", pi.Handoffs())
			}
		})
	}
}

// TestLearnAnnouncementNotSilent: a program that is not leash and
// announces itself as a nested leash tracer (to keep its raw socket and
// user namespace out of the profile) gets an incomplete profile that
// names it as a handoff, leash learn says so on stderr, leash show does
// not call the profile complete, and leash diff counts the handoff as a
// grant.
func TestLearnAnnouncementNotSilent(t *testing.T) {
	testutil.RequireRoot(t)
	dir := worldDir(t)
	prog := compileIn(t, dir, "prog", filepath.Join(learnData, "prog.c"), "-pthread")
	res, path := learn(t, dir, "hide", "--", prog, "hide")
	if res.Code != 0 {
		t.Fatalf("leash learn -- prog hide: exit %d\nstderr:\n%s", res.Code, res.Stderr)
	}
	p := loadProfile(t, path, res)
	want := []profiles.Handoff{{Executable: prog, How: profiles.HandoffAnnounced}}
	if got := p.Handoffs(); !reflect.DeepEqual(got, want) {
		t.Errorf("handoffs %+v, want %+v", got, want)
	}
	if !p.Incomplete() || !hasNote(p.Provenance.Runs[0], "announced itself as a nested leash tracer") {
		t.Errorf("run not incomplete for the announcement: %q", p.Provenance.Runs[0].Incomplete)
	}
	if !strings.Contains(res.Stderr, "leash: incomplete: "+prog+" announced itself") {
		t.Errorf("stderr does not say so:\n%s", res.Stderr)
	}
	show := runLeash(t, "show", path)
	if strings.Contains(show.Stdout, ", complete") || !strings.Contains(show.Stdout, "handed off: "+prog) {
		t.Errorf("leash show:\n%s", show.Stdout)
	}
	// The same profile without the handoff: the handoff is the grant.
	base := p.Clone()
	base.Provenance.Runs[0].Handoffs = nil
	basePath := filepath.Join(dir, "base.yaml")
	if err := profiles.Save(basePath, base); err != nil {
		t.Fatal(err)
	}
	d := runLeash(t, "diff", basePath, path)
	if d.Code != 1 || !strings.Contains(d.Stdout, "+ handoff "+prog) {
		t.Errorf("leash diff: exit %d, want 1 with the handoff as a grant\n%s%s", d.Code, d.Stdout, d.Stderr)
	}
}

// TestLearnExecutableChanged: the sha256 recorded for an executable is of
// the file that ran. One replaced, overwritten or removed after it ran,
// before leash hashed it, gets no digest, and the run is incomplete and
// says why; an untouched one is hashed.
func TestLearnExecutableChanged(t *testing.T) {
	testutil.RequireRoot(t)
	trueBin, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	falseBin, err := exec.LookPath("false")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, after, why string
	}{
		{"Untouched", ":", ""},
		{"Replaced", "cp " + falseBin + " $X.new && mv $X.new $X", "changed or was replaced after it ran: no digest"},
		{"Overwritten", "cp " + falseBin + " $X", "changed or was replaced after it ran: no digest"},
		{"Removed", "rm $X", "was removed after it ran: no digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := worldDir(t)
			x := filepath.Join(dir, "x")
			copyExecutable(t, trueBin, x)
			orig := sha256File(t, x)
			script := "X=" + x + "; $X; " + tt.after
			res, path := learn(t, dir, "x", "--", "/bin/sh", "-c", script)
			if res.Code != 0 {
				t.Fatalf("leash learn: exit %d\nstderr:\n%s", res.Code, res.Stderr)
			}
			p := loadProfile(t, path, res)
			var sums []string
			for _, e := range p.Provenance.Executables {
				if e.Path == x {
					sums = append(sums, e.SHA256)
				}
			}
			if tt.why == "" {
				if !reflect.DeepEqual(sums, []string{orig}) || p.Incomplete() {
					t.Errorf("digests of %s %q (incomplete %q), want only %s", x, sums, p.Provenance.Runs[0].Incomplete, orig)
				}
				return
			}
			if len(sums) != 0 {
				t.Errorf("digests %q recorded for %s, which changed after it ran (it ran as %s)", sums, x, orig)
			}
			msg := "executable " + x + " " + tt.why
			if !hasNote(p.Provenance.Runs[0], msg) {
				t.Errorf("run incomplete %q, want %q", p.Provenance.Runs[0].Incomplete, msg)
			}
			if !strings.Contains(res.Stderr, "leash: incomplete: "+msg) {
				t.Errorf("stderr does not say %q:\n%s", msg, res.Stderr)
			}
		})
	}
}

// copyExecutable copies an executable.
func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestLearnErrors: environment and usage problems give a one-line error and
// a distinct exit code, and leave no output behind.
func TestLearnErrors(t *testing.T) {
	testutil.RequireRoot(t)
	t.Run("NotRoot", func(t *testing.T) {
		dir := worldDir(t)
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		res := runLeashCmd(t, leashCmd{
			Args:       []string{"learn", "-o", filepath.Join(dir, "p.yaml"), "--", "/bin/true"},
			Dir:        dir,
			Credential: &syscall.Credential{Uid: 65534, Gid: 65534},
		})
		if res.Code != 3 {
			t.Errorf("exit %d, want 3\nstderr:\n%s", res.Code, res.Stderr)
		}
		oneLine(t, res.Stderr)
		emptyDir(t, dir)
	})
	t.Run("NoOutputDir", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "missing", "p.yaml")
		res := runLeashCmd(t, leashCmd{
			Args: []string{"learn", "-o", out, "--", "/bin/sh", "-c", "touch ran"},
			Dir:  dir,
		})
		if res.Code == 0 {
			t.Errorf("exit 0, want an error")
		}
		oneLine(t, res.Stderr)
		if !strings.Contains(res.Stderr, "missing") {
			t.Errorf("error does not name the directory: %q", res.Stderr)
		}
		// Fail before training, not after: nothing ran, nothing written.
		emptyDir(t, dir)
	})
	t.Run("MissingCommand", func(t *testing.T) {
		dir := t.TempDir()
		res, _ := learn(t, dir, "p", "--", filepath.Join(dir, "no-such-program"))
		if res.Code != 127 {
			t.Errorf("exit %d, want 127\nstderr:\n%s", res.Code, res.Stderr)
		}
		if !strings.Contains(res.Stderr, "no-such-program") {
			t.Errorf("error does not name the program: %q", res.Stderr)
		}
	})
	t.Run("NoSuchUser", func(t *testing.T) {
		dir := t.TempDir()
		res, _ := learn(t, dir, "p", "--user", "no-such-user", "--", "/bin/sh", "-c", "touch ran")
		if res.Code != 2 {
			t.Errorf("exit %d, want 2 (usage)\nstderr:\n%s", res.Code, res.Stderr)
		}
		oneLine(t, res.Stderr)
		if !strings.Contains(res.Stderr, "no-such-user") {
			t.Errorf("error does not name the user: %q", res.Stderr)
		}
		emptyDir(t, dir)
	})
	t.Run("NoCommand", func(t *testing.T) {
		dir := t.TempDir()
		res, _ := learn(t, dir, "p")
		if res.Code != 2 {
			t.Errorf("exit %d, want 2 (usage)\nstderr:\n%s", res.Code, res.Stderr)
		}
		emptyDir(t, dir)
	})
}

// oneLine fails unless stderr is exactly one non-empty line.
func oneLine(t *testing.T, stderr string) {
	t.Helper()
	s := strings.TrimSuffix(stderr, "\n")
	if s == "" || strings.Contains(s, "\n") {
		t.Errorf("stderr is not one line: %q", stderr)
	}
}

// emptyDir fails unless dir has nothing in it (no profile, no temporary
// file, no sign that the command ran).
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("%s left behind in %s", e.Name(), dir)
	}
}
