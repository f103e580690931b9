package seccomp

import (
	"errors"
	"fmt"
	"runtime"
	"sort"

	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
)

// Seccomp return values (SECCOMP_RET_*, include/uapi/linux/seccomp.h).
const (
	RetKillProcess uint32 = 0x80000000
	RetKillThread  uint32 = 0x00000000
	RetTrap        uint32 = 0x00030000
	RetErrno       uint32 = 0x00050000
	RetLog         uint32 = 0x7ffc0000
	RetAllow       uint32 = 0x7fff0000
	// RetActionFull masks the action of a return value; RetData its data
	// (the errno of RetErrno).
	RetActionFull uint32 = 0xffff0000
	RetData       uint32 = 0x0000ffff
)

const (
	errnoEPERM  = 1
	errnoENOSYS = 38
)

// ErrOptions is matched with errors.Is by every error Compile returns for
// bad Options (an unsupported host architecture or an unknown action).
var ErrOptions = errors.New("invalid filter options")

// Offsets in struct seccomp_data: int nr; __u32 arch; __u64
// instruction_pointer; __u64 args[6]. The filter runs on little-endian
// hosts only (x86_64, arm64), where the low word of args[i] is at
// argsOffset+8*i and the high word 4 bytes later.
const (
	offNr      = 0
	offArch    = 4
	argsOffset = 16
)

func argLow(i int) uint32  { return uint32(argsOffset + 8*i) }
func argHigh(i int) uint32 { return uint32(argsOffset + 8*i + 4) }

// ruleKind is how one allowed syscall is decided.
type ruleKind uint8

const (
	ruleAllow   ruleKind = iota + 1 // number only
	ruleENOSYS                      // answered ENOSYS (clone3)
	ruleSocket                      // socket, socketpair: domain and type (socket: netlink protocol)
	ruleClone                       // clone: CLONE_NEW* flags in args[0]
	ruleUnshare                     // unshare: CLONE_NEW* flags in args[0]
	ruleSetns                       // setns: nstype in args[1]
)

// rule is the decision for one syscall number of one ABI.
type rule struct {
	kind   ruleKind
	name   string
	reason string
}

// abiPolicy is what one ABI's search tree decides.
type abiPolicy struct {
	arch  linux.Arch
	rules map[int]rule
}

// family is one allowed address family with its allowed socket types
// and, for AF_NETLINK, its allowed protocols (nil: any protocol).
type family struct {
	nr        int
	types     []int
	protocols []int
}

// policy is a profile resolved against Options: everything the code
// generator needs, and nothing it has to look up.
type policy struct {
	component string
	host      linux.Arch
	native    *abiPolicy
	compat    *abiPolicy // i386 on an x86_64 host; nil: the ABI is denied

	deny    uint32 // syscalls outside the profile, failed argument rules
	abiDeny uint32 // x32 and a compat ABI the profile did not learn
	badArch uint32 // any other seccomp_data.arch
	enosys  uint32 // clone3 and numbers above the table

	families  []family
	nsLearned uint32 // CLONE_NEW* flags of the learned namespaces
	setnsAny  bool   // setns(fd, 0) allowed: every namespace was learned
	widened   []string
}

// clone3 is always answered ENOSYS: its flags are in memory the filter
// cannot read, and glibc (2.34+) falls back to clone when it sees ENOSYS.
const restartReason = "always: the kernel resumes an allowed sleep with it after a stop or a signal (no arguments)"

const clone3Reason = "clone3 cannot be argument-checked (flags in memory): answered ENOSYS so libc falls back to clone"

func resolve(p *profiles.Profile, opts Options) (*policy, error) {
	if p == nil {
		return nil, fmt.Errorf("compile filter: nil profile")
	}
	host := opts.Arch
	if host == "" {
		host = linux.X86_64
	}
	if host != linux.X86_64 && host != linux.ARM64 {
		return nil, fmt.Errorf("compile filter: host architecture %q is not supported (want x86_64 or arm64): %w", host, ErrOptions)
	}
	name := opts.DefaultAction
	if name == "" {
		name = p.Run.DefaultAction
	}
	deny, err := ActionValue(name)
	if err != nil {
		return nil, fmt.Errorf("compile filter: %w", err)
	}
	pol := &policy{
		component: p.Component,
		host:      host,
		deny:      deny,
		abiDeny:   deny,
		badArch:   RetKillProcess,
		enosys:    RetErrno | errnoENOSYS,
	}
	// x32 and an unlearned compat ABI are denied even when the default
	// action is log: they are ways around the filter, not missing syscalls.
	if deny == RetLog {
		pol.abiDeny = RetErrno | errnoEPERM
	}
	if opts.Complain {
		pol.deny, pol.abiDeny, pol.badArch = RetLog, RetLog, RetLog
	}

	for _, ns := range p.Namespaces {
		f, ok := linux.NamespaceFlag(ns)
		if !ok {
			return nil, fmt.Errorf("compile filter: unknown namespace %q", ns)
		}
		pol.nsLearned |= uint32(f)
	}
	pol.setnsAny = uint64(pol.nsLearned) == linux.AllNamespaceFlags

	for name, fam := range p.Families {
		nr, ok := linux.FamilyNumber(name)
		if !ok {
			return nil, fmt.Errorf("compile filter: unknown address family %q", name)
		}
		f := family{nr: nr}
		if f.types, err = numbers(fam.Types, linux.SockTypeNumber, "socket type"); err != nil {
			return nil, err
		}
		if len(fam.Protocols) > 0 && nr != linux.AFNetlink {
			return nil, fmt.Errorf("compile filter: %s lists protocols: only AF_NETLINK has them", name)
		}
		if f.protocols, err = numbers(fam.Protocols, linux.NetlinkProtocolNumber, "netlink protocol"); err != nil {
			return nil, err
		}
		pol.families = append(pol.families, f)
	}
	sort.Slice(pol.families, func(i, j int) bool { return pol.families[i].nr < pol.families[j].nr })

	// Widenings apply in the order of the widenings table, not the
	// profile's, so that a syscall two widenings add always shows the same
	// reason.
	named := map[string]bool{}
	for _, n := range p.Widen {
		if _, err := lookupWidening(n); err != nil {
			return nil, fmt.Errorf("compile filter: %w", err)
		}
		named[n] = true
	}
	var ws []Widening
	for _, w := range widenings {
		if named[w.Name] {
			ws = append(ws, w)
			pol.widened = append(pol.widened, w.Name)
		}
	}

	pol.native, err = resolveABI(p, host, ws, pol)
	if err != nil {
		return nil, err
	}
	if host == linux.X86_64 && len(p.Syscalls[string(linux.I386)]) > 0 {
		pol.compat, err = resolveABI(p, linux.I386, ws, pol)
		if err != nil {
			return nil, err
		}
	}
	return pol, nil
}

func resolveABI(p *profiles.Profile, arch linux.Arch, ws []Widening, pol *policy) (*abiPolicy, error) {
	learned := p.Syscalls[string(arch)]
	a := &abiPolicy{arch: arch, rules: map[int]rule{}}
	allow := func(name, reason string) {
		nr, ok := linux.SyscallNumber(arch, name)
		if !ok {
			return
		}
		if _, dup := a.rules[nr]; dup {
			return
		}
		a.rules[nr] = rule{kind: kindOf(name, pol), name: name, reason: reason}
	}
	names := make([]string, 0, len(learned))
	for n := range learned {
		if _, ok := linux.SyscallNumber(arch, n); !ok {
			return nil, fmt.Errorf("compile filter: unknown %s syscall %q", arch, n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		by := learned[n]
		if by == "" {
			allow(n, "learned")
		} else {
			allow(n, "learned (first by "+by+")")
		}
	}
	if _, ok := learned["clone3"]; ok {
		allow("clone", "clone3 was learned and is answered ENOSYS: libc falls back to clone")
	}
	for _, w := range ws {
		for _, g := range w.Groups {
			if g.Siblings {
				any := false
				for _, s := range g.Syscalls {
					if _, ok := learned[s]; ok {
						any = true
						break
					}
				}
				if !any {
					continue
				}
			}
			for _, s := range g.Syscalls {
				allow(s, "widen "+w.Name+": "+g.Reason)
			}
		}
	}
	// restart_syscall is how the kernel resumes an interrupted sleep
	// (nanosleep, clock_nanosleep, poll, a futex wait) after a stop, a
	// freeze or a signal handler: the program never calls it itself, and a
	// training run that was never stopped does not see it. It takes no
	// arguments and only finishes a call the filter already allowed, so
	// every filter allows it (Docker's default profile and systemd's
	// @default do too).
	allow("restart_syscall", restartReason)
	// clone3 last: it is ENOSYS whether learned, widened or neither.
	if nr, ok := linux.SyscallNumber(arch, "clone3"); ok {
		a.rules[nr] = rule{kind: ruleENOSYS, name: "clone3", reason: clone3Reason}
	}
	return a, nil
}

// kindOf returns how an allowed syscall called name is decided.
func kindOf(name string, pol *policy) ruleKind {
	all := uint32(linux.AllNamespaceFlags)
	switch name {
	case "socket", "socketpair":
		return ruleSocket
	case "clone":
		if pol.nsLearned&all != all {
			return ruleClone
		}
	case "unshare":
		if pol.nsLearned&all != all {
			return ruleUnshare
		}
	case "setns":
		if !pol.setnsAny {
			return ruleSetns
		}
	}
	return ruleAllow
}

// ActionValue returns the SECCOMP_RET_* value of a default action name:
// "errno" (or "") is SECCOMP_RET_ERRNO|EPERM, "kill-process" is
// SECCOMP_RET_KILL_PROCESS, "log" is SECCOMP_RET_LOG.
func ActionValue(name string) (uint32, error) {
	switch name {
	case "", "errno":
		return RetErrno | errnoEPERM, nil
	case "kill-process":
		return RetKillProcess, nil
	case "log":
		return RetLog, nil
	}
	return 0, fmt.Errorf("unknown default action %q (want errno, kill-process or log): %w", name, ErrOptions)
}

// ActionName describes a seccomp return value, as the disassembly shows it.
func ActionName(ret uint32) string {
	switch ret & RetActionFull {
	case RetKillProcess:
		return "KILL_PROCESS"
	case RetKillThread:
		return "KILL_THREAD"
	case RetTrap:
		return "TRAP"
	case RetErrno:
		switch ret & RetData {
		case errnoEPERM:
			return "ERRNO(EPERM)"
		case errnoENOSYS:
			return "ERRNO(ENOSYS)"
		}
		return fmt.Sprintf("ERRNO(%d)", ret&RetData)
	case RetLog:
		return "LOG"
	case RetAllow:
		return "ALLOW"
	}
	return fmt.Sprintf("RET(%#x)", ret)
}

// checksProtocol reports whether the socket rule of syscall name checks
// the protocol (args[2]) of family f: only socket does, and only for a
// family with protocols listed (AF_NETLINK). socketpair never needs to:
// the kernel refuses AF_NETLINK pairs, and the other families list none.
func checksProtocol(name string, f family) bool {
	return name == "socket" && len(f.protocols) > 0
}

// numbers maps names to their numbers with lookup, sorted and without
// repeats (nil for no names); what says what a name is, for the error.
func numbers(names []string, lookup func(string) (int, bool), what string) ([]int, error) {
	var out []int
	for _, n := range names {
		v, ok := lookup(n)
		if !ok {
			return nil, fmt.Errorf("compile filter: unknown %s %q", what, n)
		}
		out = append(out, v)
	}
	sort.Ints(out)
	return uniqInts(out), nil
}

func uniqInts(s []int) []int {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// NativeArch returns the ABI of the machine leash runs on, for
// Options.Arch: x86_64 or arm64.
func NativeArch() (linux.Arch, error) {
	switch runtime.GOARCH {
	case "amd64":
		return linux.X86_64, nil
	case "arm64":
		return linux.ARM64, nil
	}
	return "", fmt.Errorf("seccomp filters for %s are not supported (want amd64 or arm64): %w", runtime.GOARCH, ErrOptions)
}
