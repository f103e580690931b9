package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/internal/testutil"
	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/seccomp/internal/int80"
)

// The kernel tests install filters in a child: the test binary re-executes
// itself with childEnv set, and TestMain hands over to seccompChild before
// any test runs. The filter never touches the test process itself.
const (
	childEnv     = "LEASH_SECCOMP_TEST_CHILD" // the filter file
	childCallEnv = "LEASH_SECCOMP_TEST_CALL"  // "abi nr a0 a1 a2"
	// A child reports by exit status: childOK when the syscall returned a
	// value >= 0, childErrno+e when it failed with errno e.
	childOK    = 100
	childErrno = 100
)

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		if call := os.Getenv(childCallEnv); strings.HasPrefix(call, "sweep ") {
			sweepChild(path, call)
		}
		seccompChild(path, os.Getenv(childCallEnv))
	}
	os.Exit(m.Run())
}

// seccompChild installs the filter at path on this thread and makes one
// syscall. Between installing and exiting it makes only raw syscalls
// (the test profiles allow exit_group and rt_sigreturn), and exits with
// the result.
func seccompChild(path, call string) {
	fail := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "seccomp child: "+format+"\n", a...)
		os.Exit(2)
	}
	f := strings.Fields(call)
	if len(f) != 5 {
		fail("bad call %q", call)
	}
	var v [4]uint64
	for i := range v {
		var err error
		if v[i], err = strconv.ParseUint(f[i+1], 0, 64); err != nil {
			fail("bad call %q: %v", call, err)
		}
	}
	if path == "none" { // probe: the call without a filter
		r := int80.Syscall(uint32(v[0]), uint32(v[1]), uint32(v[2]), uint32(v[3]))
		unix.RawSyscall(unix.SYS_EXIT_GROUP, uintptr(childOK+min(int(max(-r, 0)), 150)), 0, 0)
	}
	prog, err := os.ReadFile(path)
	if err != nil || len(prog) == 0 || len(prog)%8 != 0 {
		fail("read filter: %v (%d bytes)", err, len(prog))
	}
	runtime.LockOSThread()
	fprog := unix.SockFprog{Len: uint16(len(prog) / 8), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0); e != 0 {
		fail("prctl(PR_SET_NO_NEW_PRIVS): %v", e)
	}
	// No SECCOMP_FILTER_FLAG_TSYNC: only this thread is filtered, so the
	// rest of the Go runtime keeps running whatever the filter denies.
	if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		fail("seccomp(SECCOMP_SET_MODE_FILTER): %v", e)
	}
	var r int64
	switch f[0] {
	case "i386":
		r = int64(int80.Syscall(uint32(v[0]), uint32(v[1]), uint32(v[2]), uint32(v[3])))
	default:
		r1, _, e := unix.RawSyscall(uintptr(v[0]), uintptr(v[1]), uintptr(v[2]), uintptr(v[3]))
		r = int64(r1)
		if e != 0 {
			r = -int64(e)
		}
	}
	code := childOK
	if r < 0 && r > -4096 {
		code = childErrno + int(-r)
	}
	unix.RawSyscall(unix.SYS_EXIT_GROUP, uintptr(code), 0, 0)
	fail("exit_group returned")
}

// outcome is what the kernel did to a child's syscall.
type outcome struct {
	errno  syscall.Errno // 0: the syscall returned a value >= 0
	signal syscall.Signal
}

func (o outcome) String() string {
	if o.signal != 0 {
		return "killed by " + o.signal.String()
	}
	if o.errno != 0 {
		return fmt.Sprintf("errno %d (%v)", int(o.errno), o.errno)
	}
	return "success"
}

// runChild makes call in a child under filter (nil: no filter, the call
// must be i386).
func runChild(t *testing.T, filter []byte, call string) outcome {
	t.Helper()
	path := "none"
	if filter != nil {
		path = filepath.Join(t.TempDir(), "filter.bpf")
		if err := os.WriteFile(path, filter, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path, childCallEnv+"="+call, "GODEBUG=asyncpreemptoff=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		t.Fatalf("child exited 0 (it must exit with its result): %s", out)
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return outcome{signal: ws.Signal()}
		}
		code := ws.ExitStatus()
		if code < childOK {
			t.Fatalf("child failed (exit %d): %s", code, out)
		}
		return outcome{errno: syscall.Errno(code - childErrno)}
	default:
		t.Fatalf("run child: %v", err)
	}
	return outcome{}
}

func TestKernel(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the kernel tests speak x86_64 and i386 syscall numbers")
	}
	// Syscalls the child needs after the filter is in place.
	need := map[string]string{"exit_group": "test", "rt_sigreturn": "test"}
	mk := func(name, action string, x86, i386 []string, fams map[string][]string, ns ...string) *profiles.Profile {
		p := &profiles.Profile{APIVersion: profiles.APIVersion, Component: name, Syscalls: map[string]map[string]string{"x86_64": {}}}
		for k, v := range need {
			p.Syscalls["x86_64"][k] = v
		}
		for _, s := range x86 {
			p.Syscalls["x86_64"][s] = "test"
		}
		if len(i386) > 0 {
			p.Syscalls["i386"] = map[string]string{}
			for _, s := range i386 {
				p.Syscalls["i386"][s] = "test"
			}
		}
		for f, ts := range fams {
			if p.Families == nil {
				p.Families = map[string]profiles.Family{}
			}
			p.Families[f] = profiles.Family{Types: ts}
		}
		p.Namespaces = ns
		p.Run.DefaultAction = action
		return p
	}
	x86 := []string{"getppid", "socket", "clone", "clone3", "unshare", "setns"}
	fams := map[string][]string{"AF_UNIX": {"SOCK_STREAM"}, "AF_INET": {"SOCK_DGRAM"}}
	plain := mk("plain", "", x86, nil, fams, "net")
	compat := mk("compat", "", x86, []string{"getpid", "socket"}, fams, "net")
	kill := mk("kill", "kill-process", x86, nil, fams, "net")
	logp := mk("log", "log", x86, nil, fams, "net")
	// AF_NETLINK held to two protocols; NETLINK_FIREWALL (3) is listed
	// too: the kernel no longer has it, so a call the filter lets through
	// fails with EPROTONOSUPPORT instead of EPERM.
	nl := mk("netlink", "", x86, []string{"socket"}, fams, "net")
	nl.Families["AF_NETLINK"] = profiles.Family{Types: []string{"SOCK_RAW", "SOCK_DGRAM"}, Protocols: []string{"NETLINK_ROUTE", "NETLINK_KOBJECT_UEVENT", "NETLINK_FIREWALL"}}
	nlKill := nl.Clone()
	nlKill.Run.DefaultAction = "kill-process"

	nr := func(name string) int {
		n, ok := linux.SyscallNumber(linux.X86_64, name)
		if !ok {
			t.Fatalf("no x86_64 %s", name)
		}
		return n
	}
	const (
		afUnix, afInet, afNetlink  = 1, 2, 16
		sockStream, sockDgram      = 1, 2
		sockCloexec                = 0o2000000
		cloneNewNet, cloneNewUTS   = 0x40000000, 0x04000000
		cloneNewUser, cloneSighand = 0x10000000, 0x00000800
		sockRaw                    = 3
		netlinkRoute, netlinkAudit = 0, 9
		netlinkUevent              = 15
		netlinkFirewall            = 3
	)
	plainNetlink := plain.Clone()
	plainNetlink.Families["AF_NETLINK"] = profiles.Family{Types: []string{"SOCK_RAW"}}
	x := func(name string, a ...uint64) string {
		a = append(a, 0, 0, 0)
		return fmt.Sprintf("x86_64 %d %#x %#x %#x", nr(name), a[0], a[1], a[2])
	}
	neg1 := uint64(0xffffffffffffffff)
	ok := outcome{}
	eperm := outcome{errno: unix.EPERM}
	tests := []struct {
		name string
		p    *profiles.Profile
		opts Options
		call string
		want outcome
	}{
		{"allowed getppid", plain, Options{}, x("getppid"), ok},
		{"denied getuid EPERM", plain, Options{}, x("getuid"), eperm},
		{"denied getuid kill-process", kill, Options{}, x("getuid"), outcome{signal: unix.SIGSYS}},
		{"run override kill-process", plain, Options{DefaultAction: "kill-process"}, x("getuid"), outcome{signal: unix.SIGSYS}},
		{"log allows", logp, Options{}, x("getuid"), ok},
		{"complain allows", kill, Options{Complain: true}, x("getuid"), ok},
		{"clone3 ENOSYS", plain, Options{}, x("clone3"), outcome{errno: unix.ENOSYS}},
		{"newer than table ENOSYS", plain, Options{}, "x86_64 600 0 0 0", outcome{errno: unix.ENOSYS}},
		{"x32 getpid denied", plain, Options{}, fmt.Sprintf("x86_64 %#x 0 0 0", linux.X32SyscallBit|39), eperm},
		{"x32 getpid killed", kill, Options{}, fmt.Sprintf("x86_64 %#x 0 0 0", linux.X32SyscallBit|39), outcome{signal: unix.SIGSYS}},
		{"socket AF_UNIX stream cloexec", plain, Options{}, x("socket", afUnix, sockStream|sockCloexec), ok},
		{"socket AF_INET dgram", plain, Options{}, x("socket", afInet, sockDgram), ok},
		{"socket AF_INET stream denied", plain, Options{}, x("socket", afInet, sockStream), eperm},
		{"socket AF_NETLINK denied", plain, Options{}, x("socket", afNetlink, sockDgram), eperm},
		{"socket AF_NETLINK killed", kill, Options{}, x("socket", afNetlink, sockDgram), outcome{signal: unix.SIGSYS}},
		// setns(-1, ...) fails with EBADF in the kernel when the filter lets it through.
		{"setns net learned", plain, Options{}, x("setns", neg1, cloneNewNet), outcome{errno: unix.EBADF}},
		{"setns uts denied", plain, Options{}, x("setns", neg1, cloneNewUTS), eperm},
		{"setns any denied", plain, Options{}, x("setns", neg1, 0), eperm},
		// CLONE_SIGHAND without CLONE_VM is EINVAL in the kernel, after the filter.
		{"clone net learned", plain, Options{}, x("clone", cloneNewNet|cloneSighand), outcome{errno: unix.EINVAL}},
		{"clone newuser denied", plain, Options{}, x("clone", cloneNewUser|cloneSighand), eperm},
		{"unshare uts killed", kill, Options{}, x("unshare", cloneNewUTS), outcome{signal: unix.SIGSYS}},
		{"i386 denied without i386 syscalls", plain, Options{}, "i386 20 0 0 0", eperm},
		{"i386 getpid allowed", compat, Options{}, "i386 20 0 0 0", ok},
		{"i386 getuid denied", compat, Options{}, "i386 24 0 0 0", eperm},
		{"i386 socket AF_INET dgram", compat, Options{}, fmt.Sprintf("i386 359 %d %d 0", afInet, sockDgram), ok},
		{"i386 socket AF_INET stream denied", compat, Options{}, fmt.Sprintf("i386 359 %d %d 0", afInet, sockStream), eperm},
		{"netlink route", nl, Options{}, x("socket", afNetlink, sockRaw, netlinkRoute), ok},
		{"netlink uevent dgram cloexec", nl, Options{}, x("socket", afNetlink, sockDgram|sockCloexec, netlinkUevent), ok},
		{"netlink audit denied", nl, Options{}, x("socket", afNetlink, sockRaw, netlinkAudit), eperm},
		{"netlink audit killed", nlKill, Options{}, x("socket", afNetlink, sockRaw, netlinkAudit), outcome{signal: unix.SIGSYS}},
		{"netlink audit complain", nlKill, Options{Complain: true}, x("socket", afNetlink, sockRaw, netlinkAudit), ok},
		{"netlink route, junk high word", nl, Options{}, x("socket", afNetlink, sockRaw, 0xdead<<32|netlinkRoute), ok},
		{"netlink audit, route in the high word", nl, Options{}, x("socket", afNetlink, sockRaw, netlinkRoute<<32|netlinkAudit), eperm},
		{"netlink firewall passes to the kernel", nl, Options{}, x("socket", afNetlink, sockRaw, netlinkFirewall), outcome{errno: unix.EPROTONOSUPPORT}},
		{"netlink route stream denied by type", nl, Options{}, x("socket", afNetlink, sockStream, netlinkRoute), eperm},
		{"no protocols: any netlink protocol", plainNetlink, Options{}, x("socket", afNetlink, sockRaw, netlinkAudit), ok},
		{"i386 netlink uevent", nl, Options{}, fmt.Sprintf("i386 359 %d %d %d", afNetlink, sockDgram, netlinkUevent), ok},
		{"i386 netlink audit denied", nl, Options{}, fmt.Sprintf("i386 359 %d %d %d", afNetlink, sockRaw, netlinkAudit), eperm},
	}
	ia32 := ia32Works()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.HasPrefix(tt.call, "i386") && !ia32 {
				t.Skip("this kernel runs no i386 syscalls (IA32 emulation off)")
			}
			f, err := Compile(tt.p, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			b, err := f.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if got := runChild(t, b, tt.call); got != tt.want {
				t.Errorf("%s: %v, want %v", tt.call, got, tt.want)
			}
		})
	}
}

// TestKernelNetlinkProtocols holds the kernel to the oracle for socket's
// protocol argument: every netlink protocol of MAX_LINKS and some past
// it, with junk in the high word, on both x86 ABIs. A call the oracle
// denies must fail with EPERM; one it allows must get what the kernel
// answers under a filter that allows any netlink protocol (a socket, or
// EPROTONOSUPPORT for a protocol this kernel lacks), so the filter is
// seen to let it through.
func TestKernelNetlinkProtocols(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the kernel tests speak x86_64 and i386 syscall numbers")
	}
	mk := func(name string, protocols ...string) *profiles.Profile {
		p := &profiles.Profile{APIVersion: profiles.APIVersion, Component: name, Syscalls: map[string]map[string]string{
			"x86_64": {"exit_group": "test", "rt_sigreturn": "test", "socket": "test"},
			"i386":   {"socket": "test"},
		}}
		p.Families = map[string]profiles.Family{"AF_NETLINK": {Types: []string{"SOCK_RAW", "SOCK_DGRAM"}, Protocols: protocols}}
		return p
	}
	held := mk("held", "NETLINK_ROUTE", "NETLINK_SOCK_DIAG", "NETLINK_KOBJECT_UEVENT", "NETLINK_GENERIC", "NETLINK_FIREWALL", "NETLINK_SMC")
	anyProto := mk("any")
	filter := func(p *profiles.Profile) []byte {
		f, err := Compile(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	heldBPF, anyBPF := filter(held), filter(anyProto)
	protos := []uint64{0xffffffff, 0x7fffffff, 1<<32 | 15, 0xffffffff00000009}
	for pr := uint64(0); pr <= 33; pr++ {
		protos = append(protos, pr)
	}
	abis := []linux.Arch{linux.X86_64}
	if ia32Works() {
		abis = append(abis, linux.I386)
	}
	allowed, denied := 0, 0
	for _, abi := range abis {
		nr, _ := linux.SyscallNumber(abi, "socket")
		for _, pr := range protos {
			if abi == linux.I386 && pr>>32 != 0 {
				continue // int $0x80 passes 32-bit registers
			}
			d := Data{Nr: int32(nr), Arch: abi.AuditArch(), Args: [6]uint64{uint64(linux.AFNetlink), 3, pr}}
			call := fmt.Sprintf("%s %d %d 3 %#x", abi, nr, linux.AFNetlink, pr)
			got := runChild(t, heldBPF, call)
			switch oracle(held, oracleOpts{}, d) {
			case oAllow:
				allowed++
				if want := runChild(t, anyBPF, call); got != want || got.errno == unix.EPERM {
					t.Errorf("%s: %v under the filter, %v with any protocol allowed", call, got, want)
				}
			default:
				denied++
				if got != (outcome{errno: unix.EPERM}) {
					t.Errorf("%s: %v, want EPERM (protocol not in the profile)", call, got)
				}
			}
		}
	}
	if allowed < 6 || denied < 20 {
		t.Errorf("sampled %d allowed and %d denied protocols", allowed, denied)
	}
}

// sweepChild installs the filter at path and makes every syscall of call
// ("sweep ABI NR,NR,...") with zero arguments, on this thread, with raw
// syscalls only. It writes the results (int64 each: the return value or
// -errno) to stdout with one raw write and exits childOK. The profile must
// allow write and exit_group; the numbers must all be denied or answered
// ENOSYS by the filter, so that none of them runs.
func sweepChild(path, call string) {
	fail := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "seccomp sweep child: "+format+"\n", a...)
		os.Exit(2)
	}
	f := strings.Fields(call)
	if len(f) != 3 {
		fail("bad call %q", call)
	}
	var nrs []uint32
	for _, s := range strings.Split(f[2], ",") {
		n, err := strconv.ParseUint(s, 0, 32)
		if err != nil {
			fail("bad call %q: %v", call, err)
		}
		nrs = append(nrs, uint32(n))
	}
	res := make([]int64, len(nrs))
	prog, err := os.ReadFile(path)
	if err != nil || len(prog) == 0 || len(prog)%8 != 0 {
		fail("read filter: %v (%d bytes)", err, len(prog))
	}
	i386 := f[1] == "i386"
	runtime.LockOSThread()
	fprog := unix.SockFprog{Len: uint16(len(prog) / 8), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0); e != 0 {
		fail("prctl(PR_SET_NO_NEW_PRIVS): %v", e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		fail("seccomp(SECCOMP_SET_MODE_FILTER): %v", e)
	}
	for i, nr := range nrs {
		if i386 {
			res[i] = int64(int80.Syscall(nr, 0, 0, 0))
			continue
		}
		r1, _, e := unix.RawSyscall(uintptr(nr), 0, 0, 0)
		res[i] = int64(r1)
		if e != 0 {
			res[i] = -int64(e)
		}
	}
	unix.RawSyscall(unix.SYS_WRITE, 1, uintptr(unsafe.Pointer(&res[0])), uintptr(8*len(res)))
	unix.RawSyscall(unix.SYS_EXIT_GROUP, childOK, 0, 0)
	fail("exit_group returned")
}

// TestKernelSweep holds the kernel to the oracle for every number of the
// x86_64 and i386 tables, their x32 aliases and numbers past the tables:
// a child installs the filter and makes each syscall, and each answer
// (EPERM or ENOSYS: the profiles allow none of the numbers swept) must be
// what the oracle says. The allowed syscalls and the argument rules are
// TestKernel's.
func TestKernelSweep(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the sweep speaks x86_64 and i386 syscall numbers")
	}
	need := map[string]string{"exit_group": "test", "rt_sigreturn": "test", "write": "test"}
	native := &profiles.Profile{APIVersion: profiles.APIVersion, Component: "sweep", Syscalls: map[string]map[string]string{"x86_64": need}}
	compat := native.Clone()
	compat.Component = "sweep-compat"
	compat.Syscalls["i386"] = map[string]string{"getpid": "test"}
	ia32 := ia32Works()
	for _, tt := range []struct {
		p   *profiles.Profile
		abi linux.Arch
		// tree: the ABI has a search tree, which answers clone3 and the
		// numbers past the table ENOSYS; without one, everything is EPERM.
		tree bool
	}{{native, linux.X86_64, true}, {native, linux.I386, false}, {compat, linux.I386, true}} {
		t.Run(tt.p.Component+"/"+string(tt.abi), func(t *testing.T) {
			if tt.abi == linux.I386 && !ia32 {
				t.Skip("this kernel runs no i386 syscalls (IA32 emulation off)")
			}
			f, err := Compile(tt.p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := f.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "filter.bpf")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			var nrs []uint32
			for nr := 0; nr <= linux.MaxSyscall(tt.abi)+30; nr++ {
				name := linux.SyscallName(tt.abi, nr)
				// The kernel never filters x86_64 uretprobe and uprobe
				// (seccomp_uprobe_exception, Linux 6.11 and 6.16): they
				// run whatever the filter says, and raise SIGILL outside
				// a uprobe trampoline.
				uprobe := tt.abi == linux.X86_64 && (name == "uretprobe" || name == "uprobe")
				if _, ok := tt.p.Syscalls[string(tt.abi)][name]; !ok && !uprobe {
					nrs = append(nrs, uint32(nr))
				}
				if tt.abi == linux.X86_64 && nr <= linux.MaxSyscall(tt.abi) {
					nrs = append(nrs, linux.X32SyscallBit|uint32(nr))
				}
			}
			nrs = append(nrs, 0x3fffffff, 0x7fffffff, 0x80000000, 0xffffffff)
			list := make([]string, len(nrs))
			for i, nr := range nrs {
				list[i] = strconv.FormatUint(uint64(nr), 10)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+path, childCallEnv+"=sweep "+string(tt.abi)+" "+strings.Join(list, ","), "GODEBUG=asyncpreemptoff=1")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != childOK {
				t.Fatalf("sweep child: %v (want exit %d): %s", err, childOK, stderr.String())
			}
			if len(out) != 8*len(nrs) {
				t.Fatalf("sweep child wrote %d bytes for %d syscalls", len(out), len(nrs))
			}
			arch := tt.abi.AuditArch()
			counts := map[syscall.Errno]int{}
			for i, nr := range nrs {
				got := int64(binary.LittleEndian.Uint64(out[8*i:]))
				want := oracle(tt.p, oracleOpts{}, Data{Nr: int32(nr), Arch: arch})
				if linux.SyscallName(tt.abi, int(nr)) == "restart_syscall" && tt.tree && nr < linux.X32SyscallBit {
					// Allowed by every filter; called with nothing to
					// restart, the kernel answers EINTR.
					if want != RetAllow || got != -int64(unix.EINTR) {
						t.Errorf("%s restart_syscall: oracle %s, kernel returned %d, want ALLOW and -EINTR", tt.abi, ActionName(want), got)
					}
					continue
				}
				if want&RetActionFull != RetErrno {
					t.Fatalf("%s nr %#x: the oracle says %s; the sweep only takes numbers answered with an errno", tt.abi, nr, ActionName(want))
				}
				wantErr := syscall.Errno(want & RetData)
				if got != -int64(wantErr) {
					t.Errorf("%s nr %#x (%s): kernel returned %d, want -%d (%v)", tt.abi, nr, linux.SyscallName(tt.abi, int(nr)), got, int(wantErr), wantErr)
				}
				counts[wantErr]++
			}
			if counts[unix.EPERM] < 300 || (counts[unix.ENOSYS] >= 30) != tt.tree {
				t.Errorf("sweep covered %d EPERM and %d ENOSYS answers", counts[unix.EPERM], counts[unix.ENOSYS])
			}
		})
	}
}

// ia32Works reports whether this kernel runs i386 syscalls (see
// testutil.IA32: a kernel with IA32 emulation off faults on int $0x80).
func ia32Works() bool {
	ok, _ := testutil.IA32()
	return ok
}
