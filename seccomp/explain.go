package seccomp

import (
	"fmt"

	"github.com/leash-project/leash/linux"
)

// Verdict is what a filter decides for one syscall, and why.
type Verdict struct {
	// Action is the SECCOMP_RET_* value the filter returns.
	Action uint32
	// ABI is the syscall's ABI ("" for an unknown architecture), Name its
	// name in that ABI's table ("" when the table has none).
	ABI  linux.Arch
	Name string
	// Reason says in words why, e.g. "socket: address family AF_PACKET
	// not in the profile" or "socket: AF_NETLINK protocol NETLINK_AUDIT
	// not in the profile".
	Reason string
}

// Explain decides a syscall the way the filter does, in Go, and says why.
// `leash run` uses it to explain a denial; the tests hold the BPF program
// to it and to an independent oracle.
func (f *Filter) Explain(d Data) Verdict {
	pol := f.pol
	var a *abiPolicy
	switch {
	case d.Arch == pol.host.AuditArch():
		a = pol.native
	case pol.host == linux.X86_64 && d.Arch == linux.AuditArchI386:
		if pol.compat == nil {
			return Verdict{Action: pol.abiDeny, ABI: linux.I386, Name: linux.SyscallName(linux.I386, int(d.Nr)),
				Reason: "i386 ABI denied: the profile learned no i386 syscall"}
		}
		a = pol.compat
	default:
		return Verdict{Action: pol.badArch, Reason: fmt.Sprintf("unknown architecture %#x", d.Arch)}
	}
	nr := uint32(d.Nr)
	v := Verdict{ABI: a.arch}
	if a.arch == linux.X86_64 && nr >= linux.X32SyscallBit {
		v.Action, v.Reason = pol.abiDeny, "x32 ABI is never allowed"
		v.Name = linux.SyscallName(linux.X86_64, int(nr&^linux.X32SyscallBit))
		return v
	}
	if int64(nr) > int64(linux.MaxSyscall(a.arch)) {
		v.Action, v.Reason = pol.enosys, "newer than leash's syscall table: answered ENOSYS"
		return v
	}
	v.Name = linux.SyscallName(a.arch, int(nr))
	r, ok := a.rules[int(nr)]
	if !ok {
		v.Action, v.Reason = pol.deny, "not in the profile"
		return v
	}
	arg := func(i int) uint32 { return uint32(d.Args[i]) }
	switch r.kind {
	case ruleAllow:
		v.Action, v.Reason = RetAllow, r.reason
	case ruleENOSYS:
		v.Action, v.Reason = pol.enosys, r.reason
	case ruleSocket:
		v.Action, v.Reason = pol.deny, fmt.Sprintf("%s: address family %s not in the profile", r.name, linux.FamilyName(int(int32(arg(0)))))
		for _, fam := range pol.families {
			if uint32(fam.nr) != arg(0) {
				continue
			}
			t := arg(1) & linux.SockTypeMask
			v.Reason = fmt.Sprintf("%s: %s type %s not in the profile", r.name, linux.FamilyName(fam.nr), linux.SockTypeName(int(t)))
			for _, ft := range fam.types {
				if uint32(ft) != t {
					continue
				}
				v.Action, v.Reason = RetAllow, fmt.Sprintf("%s: %s %s learned", r.name, linux.FamilyName(fam.nr), linux.SockTypeName(int(t)))
				if !checksProtocol(r.name, fam) {
					break
				}
				// The kernel's int protocol: the low 32 bits of args[2].
				proto := linux.NetlinkProtocolName(int(int32(arg(2))))
				v.Action, v.Reason = pol.deny, fmt.Sprintf("%s: %s protocol %s not in the profile", r.name, linux.FamilyName(fam.nr), proto)
				for _, fp := range fam.protocols {
					if uint32(fp) == arg(2) {
						v.Action, v.Reason = RetAllow, fmt.Sprintf("%s: %s %s %s learned", r.name, linux.FamilyName(fam.nr), linux.SockTypeName(int(t)), proto)
					}
				}
			}
		}
	case ruleClone, ruleUnshare:
		if bad := arg(0) & uint32(linux.AllNamespaceFlags) &^ pol.nsLearned; bad != 0 {
			v.Action, v.Reason = pol.deny, fmt.Sprintf("%s: namespace flags %#x not in the profile", r.name, bad)
		} else {
			v.Action, v.Reason = RetAllow, r.reason
		}
	case ruleSetns:
		switch t := arg(1); {
		case t&^pol.nsLearned != 0:
			v.Action, v.Reason = pol.deny, fmt.Sprintf("setns: nstype %#x not in the profile", t&^pol.nsLearned)
		case t == 0:
			v.Action, v.Reason = pol.deny, "setns: nstype 0 (any namespace) needs every namespace in the profile"
		default:
			v.Action, v.Reason = RetAllow, r.reason
		}
	}
	return v
}
