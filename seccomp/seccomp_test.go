package seccomp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/seccomp")

const testdataDir = "../testdata/seccomp"

func loadProfile(t testing.TB, name string) *profiles.Profile {
	t.Helper()
	p, err := profiles.Load(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func fixtureProfiles(t testing.TB) []*profiles.Profile {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(testdataDir, "*.yaml"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no fixture profiles in %s: %v", testdataDir, err)
	}
	var out []*profiles.Profile
	for _, n := range names {
		out = append(out, loadProfile(t, filepath.Base(n)))
	}
	return out
}

var nsFlagList = []uint64{0x02000000, 0x08000000, 0x00020000, 0x40000000, 0x20000000, 0x80, 0x10000000, 0x04000000}

// sampleArgs returns argument vectors that exercise the argument rule of
// syscall name (none for syscalls without one, beyond a junk vector).
func sampleArgs(name string, rng *rand.Rand) [][6]uint64 {
	junk := [6]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
	out := [][6]uint64{{}, junk}
	switch name {
	case "socket", "socketpair":
		doms := []uint64{0xffffffff, 1 << 32, 1<<32 | 2, 0xffffffff00000001}
		for d := 0; d <= linux.AFMax+1; d++ {
			doms = append(doms, uint64(d))
		}
		for _, d := range doms {
			for ty := uint64(0); ty < 16; ty++ {
				out = append(out,
					[6]uint64{d, ty},
					[6]uint64{d, ty | linux.SockFlagsMask, 0},
					[6]uint64{d, ty | 0xffffffff00000000, 6},
					[6]uint64{d, ty | 0x30, 0}) // type bits above the mask the kernel would reject
			}
		}
		// Netlink protocols (socket's third argument, an int: the kernel
		// ignores the high word): every one of MAX_LINKS and past it, with
		// junk in the high word, for AF_NETLINK and its neighbours.
		protos := []uint64{0xffffffff, 1 << 32, 1<<32 | 9, 0xffffffff0000000f, 0x7fffffff, rng.Uint64()}
		for pr := uint64(0); pr <= 33; pr++ {
			protos = append(protos, pr)
		}
		for _, d := range []uint64{uint64(linux.AFNetlink), 1<<32 | uint64(linux.AFNetlink), uint64(linux.AFNetlink) + 1, 1} {
			for _, ty := range []uint64{0, 2, 3, 3 | linux.SockFlagsMask, 5} {
				for _, pr := range protos {
					out = append(out, [6]uint64{d, ty, pr})
				}
			}
		}
	case "clone", "unshare":
		base := []uint64{0, 17, 0x3d0f00, 0x3d0f00 | 17}
		for _, b := range base {
			out = append(out, [6]uint64{b}, [6]uint64{b | 1<<32}, [6]uint64{b | linux.AllNamespaceFlags})
			for i, f := range nsFlagList {
				out = append(out, [6]uint64{b | f}, [6]uint64{b | f | nsFlagList[(i+3)%len(nsFlagList)]}, [6]uint64{b | f<<32})
			}
		}
	case "setns":
		for _, fd := range []uint64{3, 0xffffffff00000003} {
			out = append(out, [6]uint64{fd, 0}, [6]uint64{fd, 1}, [6]uint64{fd, 0xffffffff}, [6]uint64{fd, 1 << 32},
				[6]uint64{fd, linux.AllNamespaceFlags})
			for i, f := range nsFlagList {
				out = append(out, [6]uint64{fd, f}, [6]uint64{fd, f | nsFlagList[(i+1)%len(nsFlagList)]}, [6]uint64{fd, f | 1<<32}, [6]uint64{fd, f | 1})
			}
		}
	}
	return out
}

// interestingNrs are the numbers every ABI is probed with: all of the
// table and some past it, x32 numbers, and the edges of the 32-bit range.
func interestingNrs() []uint32 {
	var out []uint32
	top := 0
	for _, a := range linux.Arches {
		top = max(top, linux.MaxSyscall(a))
	}
	for nr := 0; nr <= top+20; nr++ {
		out = append(out, uint32(nr))
		out = append(out, linux.X32SyscallBit|uint32(nr))
	}
	return append(out, 0x3fffffff, 0x7fffffff, 0x80000000, 0xbfffffff, 0xfffffffe, 0xffffffff)
}

func hostArches(host linux.Arch) []uint32 {
	// AUDIT_ARCH_ARM, AUDIT_ARCH_X86_64 without __AUDIT_ARCH_64BIT, zero, all ones.
	others := []uint32{0x40000028, 0x0000003e, 0, 0xffffffff}
	return append([]uint32{linux.AuditArchX86_64, linux.AuditArchI386, linux.AuditArchAARCH64}, others...)
}

// runExhaustive checks every number of every table on every arch, with
// sampled arguments for the argument-checked syscalls.
func runExhaustive(t *testing.T, p *profiles.Profile, o oracleOpts) {
	c := newChecker(t, p, o)
	rng := rand.New(rand.NewPCG(1, 2))
	host := o.host
	if host == "" {
		host = linux.X86_64
	}
	for _, arch := range hostArches(host) {
		abi := map[uint32]linux.Arch{linux.AuditArchX86_64: linux.X86_64, linux.AuditArchI386: linux.I386, linux.AuditArchAARCH64: linux.ARM64}[arch]
		for _, nr := range interestingNrs() {
			name := ""
			if abi != "" {
				name = linux.SyscallName(abi, int(nr))
			}
			for _, args := range sampleArgs(name, rng) {
				c.check(Data{Nr: int32(nr), Arch: arch, Args: args})
			}
		}
	}
}

var optionVariants = []struct {
	name string
	o    oracleOpts
}{
	{"profile-action", oracleOpts{}},
	{"errno", oracleOpts{action: "errno"}},
	{"kill-process", oracleOpts{action: "kill-process"}},
	{"log", oracleOpts{action: "log"}},
	{"complain", oracleOpts{complain: true}},
	{"arm64", oracleOpts{host: linux.ARM64}},
	{"arm64-kill", oracleOpts{host: linux.ARM64, action: "kill-process"}},
}

func TestDecisionsExhaustive(t *testing.T) {
	for _, p := range fixtureProfiles(t) {
		for _, v := range optionVariants {
			t.Run(p.Component+"/"+v.name, func(t *testing.T) {
				runExhaustive(t, p, v.o)
			})
		}
	}
}

// TestDecisionsTable pins verdicts a reader can check by eye, so that an
// oracle and compiler wrong in the same way cannot both pass.
func TestDecisionsTable(t *testing.T) {
	basic := loadProfile(t, "basic.yaml")
	compat := loadProfile(t, "compat.yaml")
	nl := loadProfile(t, "netlink.yaml")
	x86 := linux.AuditArchX86_64
	i386 := linux.AuditArchI386
	tests := []struct {
		name string
		p    *profiles.Profile
		d    Data
		want uint32
	}{
		{"read allowed", basic, Data{Nr: 0, Arch: x86}, RetAllow},
		{"ptrace denied EPERM", basic, Data{Nr: 101, Arch: x86}, RetErrno | 1},
		{"clone3 ENOSYS", basic, Data{Nr: 435, Arch: x86}, RetErrno | 38},
		{"file_setattr (469, last of 6.18) denied EPERM", basic, Data{Nr: 469, Arch: x86}, RetErrno | 1},
		{"newer than table ENOSYS", basic, Data{Nr: 470, Arch: x86}, RetErrno | 38},
		{"x32 read denied", basic, Data{Nr: 0x40000000, Arch: x86}, RetErrno | 1},
		{"i386 denied when not learned", basic, Data{Nr: 3, Arch: i386}, RetErrno | 1},
		{"arm kill", basic, Data{Nr: 0, Arch: 0x40000028}, RetKillProcess},
		{"socket AF_UNIX SOCK_STREAM|CLOEXEC", basic, Data{Nr: 41, Arch: x86, Args: [6]uint64{1, 1 | 0o2000000}}, RetAllow},
		{"socket AF_INET SOCK_DGRAM not learned", basic, Data{Nr: 41, Arch: x86, Args: [6]uint64{2, 2}}, RetErrno | 1},
		{"socket AF_PACKET", basic, Data{Nr: 41, Arch: x86, Args: [6]uint64{17, 3}}, RetErrno | 1},
		{"socket AF_UNIX high word ignored by kernel", basic, Data{Nr: 41, Arch: x86, Args: [6]uint64{1 | 1<<32, 1}}, RetAllow},
		{"clone thread", basic, Data{Nr: 56, Arch: x86, Args: [6]uint64{0x3d0f00}}, RetAllow},
		{"clone CLONE_NEWUSER", basic, Data{Nr: 56, Arch: x86, Args: [6]uint64{0x10000000 | 17}}, RetErrno | 1},
		{"compat: kill-process default", compat, Data{Nr: 101, Arch: x86}, RetKillProcess},
		{"compat: unshare NEWNET learned", compat, Data{Nr: 272, Arch: x86, Args: [6]uint64{0x40000000}}, RetAllow},
		{"compat: unshare NEWNS", compat, Data{Nr: 272, Arch: x86, Args: [6]uint64{0x20000}}, RetKillProcess},
		{"compat: setns net", compat, Data{Nr: 308, Arch: x86, Args: [6]uint64{3, 0x40000000}}, RetAllow},
		{"compat: setns any", compat, Data{Nr: 308, Arch: x86, Args: [6]uint64{3, 0}}, RetKillProcess},
		{"compat: i386 socketcall allowed", compat, Data{Nr: 102, Arch: i386, Args: [6]uint64{1}}, RetAllow},
		{"compat: i386 socket AF_INET SOCK_DGRAM", compat, Data{Nr: 359, Arch: i386, Args: [6]uint64{2, 2}}, RetAllow},
		{"compat: i386 socket AF_INET SOCK_STREAM", compat, Data{Nr: 359, Arch: i386, Args: [6]uint64{2, 1}}, RetKillProcess},
		{"compat: i386 ptrace", compat, Data{Nr: 26, Arch: i386}, RetKillProcess},
		{"compat: i386 clone3", compat, Data{Nr: 435, Arch: i386}, RetErrno | 38},
		{"compat: x32 with kill-process", compat, Data{Nr: 0x40000001, Arch: x86}, RetKillProcess},
		{"basic: AF_NETLINK without protocols allows any", basic, Data{Nr: 41, Arch: x86, Args: [6]uint64{16, 3, 9}}, RetAllow},
		{"netlink: NETLINK_ROUTE", nl, Data{Nr: 41, Arch: x86, Args: [6]uint64{16, 3, 0}}, RetAllow},
		{"netlink: NETLINK_KOBJECT_UEVENT dgram cloexec", nl, Data{Nr: 41, Arch: x86, Args: [6]uint64{16, 2 | 0o2000000, 15}}, RetAllow},
		{"netlink: NETLINK_NETFILTER denied", nl, Data{Nr: 41, Arch: x86, Args: [6]uint64{16, 3, 12}}, RetErrno | 1},
		{"netlink: protocol high word ignored by kernel", nl, Data{Nr: 41, Arch: x86, Args: [6]uint64{16, 3, 1<<32 | 9}}, RetAllow},
		{"netlink: NETLINK_AUDIT in the high word only", nl, Data{Nr: 41, Arch: x86, Args: [6]uint64{16, 3, 9<<32 | 12}}, RetErrno | 1},
		{"netlink: -1 protocol", nl, Data{Nr: 41, Arch: x86, Args: [6]uint64{16, 3, 0xffffffffffffffff}}, RetErrno | 1},
		{"netlink: type checked before protocol", nl, Data{Nr: 41, Arch: x86, Args: [6]uint64{16, 1, 0}}, RetErrno | 1},
		{"netlink: AF_PACKET protocol not checked", nl, Data{Nr: 41, Arch: x86, Args: [6]uint64{17, 3, 0x300}}, RetAllow},
		{"netlink: socketpair AF_NETLINK not held to protocols", nl, Data{Nr: 53, Arch: x86, Args: [6]uint64{16, 3, 12}}, RetAllow},
		{"netlink: i386 socket NETLINK_AUDIT", nl, Data{Nr: 359, Arch: i386, Args: [6]uint64{16, 3, 9}}, RetAllow},
		{"netlink: i386 socket NETLINK_XFRM denied", nl, Data{Nr: 359, Arch: i386, Args: [6]uint64{16, 3, 6}}, RetErrno | 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Compile(tt.p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			vm, err := bpf.NewVM(f.Insns)
			if err != nil {
				t.Fatal(err)
			}
			got, err := vm.Run(vmPacket(tt.d))
			if err != nil {
				t.Fatal(err)
			}
			if uint32(got) != tt.want {
				t.Errorf("got %s, want %s", ActionName(uint32(got)), ActionName(tt.want))
			}
			if o := oracle(tt.p, oracleOpts{}, tt.d); o != tt.want {
				t.Errorf("oracle says %s, want %s", ActionName(o), ActionName(tt.want))
			}
		})
	}
}

// randomProfile draws a valid profile: random syscall subsets of both x86
// ABIs and arm64, families with random types, namespaces, action, widenings.
func randomProfile(rng *rand.Rand) *profiles.Profile {
	p := &profiles.Profile{APIVersion: profiles.APIVersion, Component: "random", Syscalls: map[string]map[string]string{}}
	for _, a := range linux.Arches {
		if a == linux.I386 && rng.IntN(2) == 0 {
			continue
		}
		m := map[string]string{}
		density := rng.Float64()
		for _, s := range linux.Syscalls(a) {
			if rng.Float64() < density {
				m[s.Name] = "/bin/x"
			}
		}
		// Make the argument-checked syscalls likely.
		for _, n := range []string{"socket", "socketpair", "clone", "clone3", "unshare", "setns"} {
			if _, ok := linux.SyscallNumber(a, n); ok && rng.IntN(3) > 0 {
				m[n] = "/bin/x"
			}
		}
		p.Syscalls[string(a)] = m
	}
	types := []string{"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET", "SOCK_DCCP", "SOCK_PACKET"}
	if rng.IntN(4) > 0 {
		p.Families = map[string]profiles.Family{}
		for f := 0; f < linux.AFMax; f++ {
			if rng.IntN(6) != 0 {
				continue
			}
			var ts []string
			for _, t := range types {
				if rng.IntN(3) == 0 {
					ts = append(ts, t)
				}
			}
			fam := profiles.Family{Types: ts}
			if f == linux.AFNetlink && rng.IntN(3) > 0 {
				// Half the time a few protocols, else none (any).
				for pr := 0; pr < 32; pr++ {
					name := linux.NetlinkProtocolName(pr)
					if _, known := linux.NetlinkProtocolNumber(name); known && rng.IntN(5) == 0 {
						fam.Protocols = append(fam.Protocols, name)
					}
				}
			}
			p.Families[linux.FamilyName(f)] = fam
		}
		if rng.IntN(3) == 0 {
			// AF_NETLINK often: its protocol rule is the one most worth drawing.
			p.Families["AF_NETLINK"] = profiles.Family{Types: []string{"SOCK_RAW", "SOCK_DGRAM"}[:1+rng.IntN(2)],
				Protocols: []string{"NETLINK_ROUTE", "NETLINK_AUDIT", "NETLINK_GENERIC"}[:rng.IntN(4)]}
		}
	}
	for _, n := range linux.NamespaceNames() {
		if rng.IntN(3) == 0 || rng.IntN(10) == 0 {
			p.Namespaces = append(p.Namespaces, n)
		}
	}
	if rng.IntN(8) == 0 {
		p.Namespaces = linux.NamespaceNames()
	}
	p.Run.DefaultAction = []string{"", "errno", "kill-process", "log"}[rng.IntN(4)]
	for _, w := range WideningNames() {
		if rng.IntN(3) == 0 {
			p.Widen = append(p.Widen, w)
		}
	}
	return p
}

func TestRandomProfiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	n := 40
	if testing.Short() {
		n = 8
	}
	for i := 0; i < n; i++ {
		p := randomProfile(rng)
		o := oracleOpts{host: []linux.Arch{linux.X86_64, linux.X86_64, linux.ARM64}[rng.IntN(3)], complain: rng.IntN(5) == 0}
		if rng.IntN(3) == 0 {
			o.action = []string{"errno", "kill-process", "log"}[rng.IntN(3)]
		}
		c := newChecker(t, p, o)
		for _, arch := range hostArches(o.host) {
			abi := map[uint32]linux.Arch{linux.AuditArchX86_64: linux.X86_64, linux.AuditArchI386: linux.I386, linux.AuditArchAARCH64: linux.ARM64}[arch]
			for _, nr := range interestingNrs() {
				if nr >= 0x40000000 && rng.IntN(8) != 0 {
					continue
				}
				name := ""
				if abi != "" {
					name = linux.SyscallName(abi, int(nr))
				}
				args := sampleArgs(name, rng)
				for j := 0; j < min(len(args), 64); j++ {
					c.check(Data{Nr: int32(nr), Arch: arch, Args: args[rng.IntN(len(args))]})
				}
			}
		}
		if t.Failed() {
			t.Logf("profile %d: %+v", i, p)
			return
		}
	}
}

// TestLongJumps compiles a profile that allows every other syscall, so the
// tree is wider than a conditional jump reaches and needs long jumps.
func TestLongJumps(t *testing.T) {
	p := &profiles.Profile{APIVersion: profiles.APIVersion, Component: "alternate", Syscalls: map[string]map[string]string{"x86_64": {}, "i386": {}}}
	for _, a := range []linux.Arch{linux.X86_64, linux.I386} {
		for _, s := range linux.Syscalls(a) {
			if s.Nr%2 == 0 {
				p.Syscalls[string(a)][s.Name] = "/bin/x"
			}
		}
	}
	p.Families = map[string]profiles.Family{"AF_UNIX": {Types: []string{"SOCK_STREAM"}}}
	c := newChecker(t, p, oracleOpts{})
	long := 0
	for _, in := range c.f.Insns {
		if _, ok := in.(bpf.Jump); ok {
			long++
		}
	}
	if long == 0 {
		t.Fatalf("expected long jumps in a %d-instruction filter", len(c.f.Insns))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, arch := range hostArches(linux.X86_64) {
		for _, nr := range interestingNrs() {
			abi := map[uint32]linux.Arch{linux.AuditArchX86_64: linux.X86_64, linux.AuditArchI386: linux.I386}[arch]
			name := ""
			if abi != "" {
				name = linux.SyscallName(abi, int(nr))
			}
			for _, args := range sampleArgs(name, rng)[:2] {
				c.check(Data{Nr: int32(nr), Arch: arch, Args: args})
			}
		}
	}
}

// TestNumberOnly checks that every syscall whose verdict needs no argument
// is decided by loads of nr and arch alone, the pattern the kernel's
// constant-action cache (seccomp_cache_prepare_bitmap) recognises.
func TestNumberOnly(t *testing.T) {
	for _, p := range fixtureProfiles(t) {
		for _, host := range []linux.Arch{linux.X86_64, linux.ARM64} {
			f, err := Compile(p, Options{Arch: host})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := f.Assemble()
			if err != nil {
				t.Fatal(err)
			}
			abis := []linux.Arch{host}
			if host == linux.X86_64 {
				abis = append(abis, linux.I386)
			}
			for _, abi := range abis {
				for nr := 0; nr <= linux.MaxSyscall(abi)+5; nr++ {
					name := linux.SyscallName(abi, nr)
					argRule := false
					for _, e := range f.Syscalls {
						if e.ABI == abi && e.Nr == nr && strings.HasPrefix(e.Action, "allow ") {
							argRule = true
						}
					}
					loads := argLoads(t, raw, Data{Nr: int32(nr), Arch: abi.AuditArch()})
					if argRule != (loads > 0) {
						t.Errorf("%s %s %d (%s): argument rule %v but %d argument loads", p.Component, abi, nr, name, argRule, loads)
					}
				}
			}
		}
	}
}

// TestKernelCache holds every fixture's filter to the kernel's own rule
// for its action cache (ConstAllow, a port of seccomp_is_const_allow):
// every syscall the oracle allows whatever its arguments is cached, on
// both hosts and on i386; nothing else is. A last case checks the port
// itself: one load of the instruction pointer in front defeats the cache
// for every syscall.
func TestKernelCache(t *testing.T) {
	argChecked := map[string]bool{"socket": true, "socketpair": true, "clone": true, "unshare": true, "setns": true}
	for _, p := range fixtureProfiles(t) {
		for _, host := range []linux.Arch{linux.X86_64, linux.ARM64} {
			f, err := Compile(p, Options{Arch: host})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := f.Assemble()
			if err != nil {
				t.Fatal(err)
			}
			defeated := append([]bpf.RawInstruction{{Op: 0x20, K: 8}}, raw...)
			abis := []linux.Arch{host}
			if host == linux.X86_64 {
				abis = append(abis, linux.I386)
			}
			cached := 0
			for _, abi := range abis {
				for nr := 0; nr <= linux.MaxSyscall(abi)+5; nr++ {
					d := Data{Nr: int32(nr), Arch: abi.AuditArch()}
					name := linux.SyscallName(abi, nr)
					// Allowed for any arguments: the oracle allows it and
					// it is either not argument-checked or checked against
					// nothing (every namespace learned).
					want := oracle(p, oracleOpts{host: host}, d) == oAllow
					if want && argChecked[name] {
						for _, args := range sampleArgs(name, rand.New(rand.NewPCG(5, uint64(nr)))) {
							if oracle(p, oracleOpts{host: host}, Data{Nr: d.Nr, Arch: d.Arch, Args: args}) != oAllow {
								want = false
								break
							}
						}
					}
					if got := ConstAllow(raw, d.Arch, d.Nr); got != want {
						t.Errorf("%s on %s: %s %d (%s): kernel cache %v, want %v", p.Component, host, abi, nr, name, got, want)
					}
					if got := ConstAllow(defeated, d.Arch, d.Nr); got {
						t.Errorf("%s on %s: %s %d: cached behind a load of the instruction pointer", p.Component, host, abi, nr)
					}
					if want {
						cached++
					}
				}
				if ConstAllow(raw, abi.AuditArch(), int32(linux.X32SyscallBit)) {
					t.Errorf("%s on %s: x32 cached", p.Component, host)
				}
			}
			if cached == 0 && len(p.Syscalls[string(host)]) > 0 {
				t.Errorf("%s on %s: no syscall cached", p.Component, host)
			}
		}
	}
}

// argLoads counts the instructions on the path of d that the kernel's
// constant-action emulation (seccomp_is_const_allow) cannot follow: loads
// other than nr and arch, and any opcode besides ld [k], ja, jeq/jge/jgt/
// jset #k, and #k and ret #k.
func argLoads(t *testing.T, raw []bpf.RawInstruction, d Data) int {
	n := 0
	_, _, err := emulate(raw, d, func(in bpf.RawInstruction) {
		switch in.Op {
		case 0x20: // ld [k]
			if in.K != offNr && in.K != offArch {
				n++
			}
		case 0x05, 0x15, 0x25, 0x35, 0x45, 0x54, 0x06: // ja, jeq, jgt, jge, jset, and, ret
		default:
			n++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// bench120 is the policy of the instruction-count bound and bench/seccomp.
func TestWorstCaseInstructions(t *testing.T) {
	p := loadProfile(t, "bench120.yaml")
	if n := len(p.Syscalls["x86_64"]); n != 120 {
		t.Fatalf("bench120.yaml has %d syscalls, want 120", n)
	}
	f, err := Compile(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	worst, worstNr := 0, 0
	var all []int
	for nr := 0; nr <= linux.MaxSyscall(linux.X86_64)+10; nr++ {
		_, steps, err := Emulate(raw, Data{Nr: int32(nr), Arch: linux.AuditArchX86_64})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, steps)
		if steps > worst {
			worst, worstNr = steps, nr
		}
	}
	sort.Ints(all)
	t.Logf("bench120: %d instructions; executed min %d median %d max %d (nr %d)", len(raw), all[0], all[len(all)/2], worst, worstNr)
	// The bound holds for any 120-syscall policy without argument rules:
	// arch load and compare (2), nr load (1), x32 guard (1), at most
	// ceil(log2(241 leaves)) = 8 comparisons, one return. libseccomp's
	// tree mode runs 15-19 for such a policy (see bench/seccomp).
	if worst > WorstCaseBound120 {
		t.Errorf("worst case %d instructions (nr %d), bound %d", worst, worstNr, WorstCaseBound120)
	}
}

// TestWorstCaseRandom120 holds random 120-syscall policies (no argument
// rules) to the same bound, on both x86 ABIs.
func TestWorstCaseRandom120(t *testing.T) {
	rng := rand.New(rand.NewPCG(120, 120))
	argChecked := map[string]bool{"socket": true, "socketpair": true, "clone": true, "clone3": true, "unshare": true, "setns": true}
	for i := 0; i < 50; i++ {
		p := &profiles.Profile{APIVersion: profiles.APIVersion, Component: "r120", Syscalls: map[string]map[string]string{}}
		for _, a := range []linux.Arch{linux.X86_64, linux.I386} {
			m := map[string]string{}
			table := linux.Syscalls(a)
			for len(m) < 120 {
				if s := table[rng.IntN(len(table))]; !argChecked[s.Name] {
					m[s.Name] = "/bin/x"
				}
			}
			p.Syscalls[string(a)] = m
		}
		f, err := Compile(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := f.Assemble()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []linux.Arch{linux.X86_64, linux.I386} {
			for nr := 0; nr <= linux.MaxSyscall(a)+3; nr++ {
				_, steps, err := Emulate(raw, Data{Nr: int32(nr), Arch: a.AuditArch()})
				if err != nil {
					t.Fatal(err)
				}
				bound := WorstCaseBound120
				if a == linux.I386 {
					bound++ // the long jump over the native tree
				}
				if steps > bound {
					t.Fatalf("policy %d: %s nr %d runs %d instructions, bound %d", i, a, nr, steps, bound)
				}
			}
		}
	}
}

// WorstCaseBound120 is the documented worst case for a 120-syscall policy:
// 4 + 8 + 1 instructions.
const WorstCaseBound120 = 13

func TestGolden(t *testing.T) {
	for _, p := range fixtureProfiles(t) {
		for _, host := range []linux.Arch{linux.X86_64, linux.ARM64} {
			if (host == linux.ARM64) != (len(p.Syscalls["arm64"]) > 0) {
				continue
			}
			t.Run(p.Component, func(t *testing.T) {
				f, err := Compile(p, Options{Arch: host})
				if err != nil {
					t.Fatal(err)
				}
				got := f.Disasm()
				path := filepath.Join(testdataDir, p.Component+".disasm")
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./seccomp -update)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from the compiled disassembly; run go test ./seccomp -update and review the diff", path)
				}
			})
		}
	}
}

func TestExplainReasons(t *testing.T) {
	f, err := Compile(loadProfile(t, "basic.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		d    Data
		want string
	}{
		{Data{Nr: 41, Arch: linux.AuditArchX86_64, Args: [6]uint64{16, 2}}, "socket: AF_NETLINK SOCK_DGRAM learned"},
		{Data{Nr: 41, Arch: linux.AuditArchX86_64, Args: [6]uint64{17, 3}}, "socket: address family AF_PACKET not in the profile"},
		{Data{Nr: 41, Arch: linux.AuditArchX86_64, Args: [6]uint64{2, 2}}, "socket: AF_INET type SOCK_DGRAM not in the profile"},
		{Data{Nr: 56, Arch: linux.AuditArchX86_64, Args: [6]uint64{0x10000000}}, "clone: namespace flags 0x10000000 not in the profile"},
		{Data{Nr: 101, Arch: linux.AuditArchX86_64}, "not in the profile"},
		{Data{Nr: 0x40000000, Arch: linux.AuditArchX86_64}, "x32 ABI is never allowed"},
		{Data{Nr: 0, Arch: 0x40000028}, "unknown architecture 0x40000028"},
		{Data{Nr: 435, Arch: linux.AuditArchX86_64}, clone3Reason},
		{Data{Nr: 0, Arch: linux.AuditArchX86_64}, "learned (first by /usr/bin/demo)"},
		{Data{Nr: 41, Arch: linux.AuditArchX86_64, Args: [6]uint64{16, 3, 9}}, "socket: AF_NETLINK SOCK_RAW learned"},
	}
	for _, tt := range tests {
		if got := f.Explain(tt.d); got.Reason != tt.want {
			t.Errorf("Explain(nr %d, args %#x) = %q, want %q", tt.d.Nr, tt.d.Args[:2], got.Reason, tt.want)
		}
	}
	f, err = Compile(loadProfile(t, "netlink.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		d    Data
		want string
	}{
		{Data{Nr: 41, Arch: linux.AuditArchX86_64, Args: [6]uint64{16, 3, 15}}, "socket: AF_NETLINK SOCK_RAW NETLINK_KOBJECT_UEVENT learned"},
		{Data{Nr: 41, Arch: linux.AuditArchX86_64, Args: [6]uint64{16, 3, 12}}, "socket: AF_NETLINK protocol NETLINK_NETFILTER not in the profile"},
		{Data{Nr: 41, Arch: linux.AuditArchX86_64, Args: [6]uint64{16, 3, 40}}, "socket: AF_NETLINK protocol NETLINK_40 not in the profile"},
		{Data{Nr: 41, Arch: linux.AuditArchX86_64, Args: [6]uint64{16, 1, 0}}, "socket: AF_NETLINK type SOCK_STREAM not in the profile"},
		{Data{Nr: 53, Arch: linux.AuditArchX86_64, Args: [6]uint64{16, 3, 12}}, "socketpair: AF_NETLINK SOCK_RAW learned"},
		{Data{Nr: 359, Arch: linux.AuditArchI386, Args: [6]uint64{16, 2, 6}}, "socket: AF_NETLINK protocol NETLINK_XFRM not in the profile"},
	} {
		if got := f.Explain(tt.d); got.Reason != tt.want {
			t.Errorf("netlink: Explain(nr %d, args %#x) = %q, want %q", tt.d.Nr, tt.d.Args[:3], got.Reason, tt.want)
		}
	}
	var actions []string
	for _, e := range f.Syscalls {
		if e.Name == "socket" || e.Name == "socketpair" {
			actions = append(actions, string(e.ABI)+" "+e.Name+": "+e.Action)
		}
	}
	if want := []string{
		"x86_64 socket: allow if domain and type were learned; AF_NETLINK only for NETLINK_ROUTE NETLINK_AUDIT NETLINK_KOBJECT_UEVENT",
		"x86_64 socketpair: allow if domain and type were learned",
		"i386 socket: allow if domain and type were learned; AF_NETLINK only for NETLINK_ROUTE NETLINK_AUDIT NETLINK_KOBJECT_UEVENT",
	}; strings.Join(actions, "\n") != strings.Join(want, "\n") {
		t.Errorf("actions %q, want %q", actions, want)
	}
}

func TestNativeArch(t *testing.T) {
	a, err := NativeArch()
	want := map[string]linux.Arch{"amd64": linux.X86_64, "arm64": linux.ARM64}[runtime.GOARCH]
	if a != want || (want == "") != (err != nil) {
		t.Errorf("NativeArch() = %q, %v on %s", a, err, runtime.GOARCH)
	}
}

func TestBytes(t *testing.T) {
	f, err := Compile(loadProfile(t, "basic.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 8*len(raw) {
		t.Fatalf("Bytes: %d bytes for %d instructions", len(b), len(raw))
	}
	for i, r := range raw {
		got := bpf.RawInstruction{Op: binary.LittleEndian.Uint16(b[8*i:]), Jt: b[8*i+2], Jf: b[8*i+3], K: binary.LittleEndian.Uint32(b[8*i+4:])}
		if got != r {
			t.Fatalf("instruction %d: bytes decode to %+v, want %+v", i, got, r)
		}
	}
	// The first instruction is ld [4]: BPF_LD|BPF_W|BPF_ABS = 0x20.
	if !bytes.Equal(b[:8], []byte{0x20, 0, 0, 0, 4, 0, 0, 0}) {
		t.Errorf("first instruction % x, want ld [4]", b[:8])
	}
}

func TestCompileErrors(t *testing.T) {
	base := func() *profiles.Profile {
		return &profiles.Profile{APIVersion: profiles.APIVersion, Component: "e", Syscalls: map[string]map[string]string{"x86_64": {"read": ""}}}
	}
	tests := []struct {
		name string
		edit func(*profiles.Profile, *Options)
		want string
		opts bool
	}{
		{"unknown widening", func(p *profiles.Profile, _ *Options) { p.Widen = []string{"python"} }, `unknown widening "python"`, false},
		{"unknown action", func(_ *profiles.Profile, o *Options) { o.DefaultAction = "trap" }, `unknown default action "trap"`, true},
		{"i386 host", func(_ *profiles.Profile, o *Options) { o.Arch = linux.I386 }, "not supported", true},
		{"unknown syscall", func(p *profiles.Profile, _ *Options) { p.Syscalls["x86_64"]["frobnicate"] = "" }, `unknown x86_64 syscall "frobnicate"`, false},
		{"unknown namespace", func(p *profiles.Profile, _ *Options) { p.Namespaces = []string{"bogus"} }, `unknown namespace "bogus"`, false},
		{"unknown family", func(p *profiles.Profile, _ *Options) {
			p.Families = map[string]profiles.Family{"AF_BOGUS": {}}
		}, `unknown address family "AF_BOGUS"`, false},
		{"unknown netlink protocol", func(p *profiles.Profile, _ *Options) {
			p.Families = map[string]profiles.Family{"AF_NETLINK": {Types: []string{"SOCK_RAW"}, Protocols: []string{"NETLINK_BOGUS"}}}
		}, `unknown netlink protocol "NETLINK_BOGUS"`, false},
		{"protocols outside AF_NETLINK", func(p *profiles.Profile, _ *Options) {
			p.Families = map[string]profiles.Family{"AF_INET": {Types: []string{"SOCK_RAW"}, Protocols: []string{"NETLINK_ROUTE"}}}
		}, "AF_INET lists protocols: only AF_NETLINK has them", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, o := base(), Options{}
			tt.edit(p, &o)
			_, err := Compile(p, o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Compile: %v, want an error containing %q", err, tt.want)
			}
			if errors.Is(err, ErrOptions) != tt.opts {
				t.Errorf("errors.Is(err, ErrOptions) = %v, want %v", !tt.opts, tt.opts)
			}
		})
	}
	if _, err := Compile(nil, Options{}); err == nil {
		t.Error("Compile(nil) succeeded")
	}
}

func TestWidenings(t *testing.T) {
	ws := Widenings()
	if len(ws) != len(WideningNames()) || len(ws) < 2 {
		t.Fatalf("Widenings: %d, names %v", len(ws), WideningNames())
	}
	for name, w := range ws {
		for _, g := range w.Groups {
			if g.Reason == "" {
				t.Errorf("%s: group %v has no reason", name, g.Syscalls)
			}
			for _, s := range g.Syscalls {
				known := false
				for _, a := range linux.Arches {
					if _, ok := linux.SyscallNumber(a, s); ok {
						known = true
					}
				}
				if !known {
					t.Errorf("%s: %q is in no syscall table", name, s)
				}
			}
		}
	}
	// A widening must say which syscalls it added, and why.
	p := loadProfile(t, "go-widened.yaml")
	f, err := Compile(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, e := range f.Syscalls {
		if e.ABI == linux.X86_64 {
			reasons[e.Name] = e.Reason
		}
	}
	for name, want := range map[string]string{
		"tgkill":      "widen go-runtime: ",
		"madvise":     "widen go-runtime: ",
		"statx":       "widen glibc-portability: ",
		"epoll_pwait": "widen go-runtime: ",
		"futex":       "learned",
	} {
		if !strings.HasPrefix(reasons[name], want) {
			t.Errorf("%s: reason %q, want prefix %q", name, reasons[name], want)
		}
	}
	if !strings.Contains(f.Disasm(), "tgkill[go-runtime]") {
		t.Error("disassembly does not mark tgkill as widened by go-runtime")
	}
	// The profile's order of widenings does not change the filter.
	rev := *p
	rev.Widen = []string{p.Widen[1], p.Widen[0]}
	if g, err := Compile(&rev, Options{}); err != nil || g.Disasm() != f.Disasm() {
		t.Errorf("reordering widen changes the filter (%v)", err)
	}
	// Without widen, nothing is added.
	p.Widen = nil
	f, err = Compile(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range f.Syscalls {
		if strings.HasPrefix(e.Reason, "widen") {
			t.Errorf("%s added by %q without a widening", e.Name, e.Reason)
		}
	}
	// Widenings returns a copy.
	ws["go-runtime"].Groups[0].Syscalls[0] = "changed"
	if Widenings()["go-runtime"].Groups[0].Syscalls[0] == "changed" {
		t.Error("Widenings shares its data with the caller")
	}
}

// TestEmulateMatchesVM holds the counting interpreter to x/net/bpf's VM on
// programs that use more of classic BPF than the compiler emits.
func TestEmulateMatchesVM(t *testing.T) {
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: 16, Size: 4},
		bpf.StoreScratch{Src: bpf.RegA, N: 3},
		bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: 7},
		bpf.TAX{},
		bpf.LoadScratch{Dst: bpf.RegA, N: 3},
		bpf.ALUOpX{Op: bpf.ALUOpOr},
		bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: 100, SkipTrue: 1},
		bpf.RetA{},
		bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 1},
		bpf.RetA{},
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []uint64{0, 1, 50, 93, 94, 200, 0xffffffff, 1 << 40} {
		d := Data{Args: [6]uint64{a}}
		want, _ := vm.Run(vmPacket(d))
		got, steps, err := Emulate(raw, d)
		if err != nil || got != uint32(want) || steps < 8 {
			t.Errorf("arg %#x: Emulate %d (%d steps, %v), VM %d", a, got, steps, err, want)
		}
	}
}
