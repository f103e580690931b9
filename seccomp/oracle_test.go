package seccomp

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
)

// The oracle says what a profile means, written from the profile schema
// and the rules alone: it shares no code with the compiler (only
// the ABI tables of package linux and the widening data).

const (
	oAllow  = 0x7fff0000
	oEPERM  = 0x00050001
	oENOSYS = 0x00050026
	oKill   = 0x80000000
	oLog    = 0x7ffc0000
)

type oracleOpts struct {
	host     linux.Arch
	action   string // override, "" = profile's
	complain bool
}

func oracle(p *profiles.Profile, o oracleOpts, d Data) uint32 {
	host := o.host
	if host == "" {
		host = "x86_64"
	}
	act := o.action
	if act == "" {
		act = p.Run.DefaultAction
	}
	deny := map[string]uint32{"": oEPERM, "errno": oEPERM, "kill-process": oKill, "log": oLog}[act]
	abiDeny := deny
	if deny == oLog {
		abiDeny = oEPERM
	}
	badArch := uint32(oKill)
	if o.complain {
		deny, abiDeny, badArch = oLog, oLog, oLog
	}

	var abi string
	switch {
	case host == "x86_64" && d.Arch == 0xc000003e:
		abi = "x86_64"
	case host == "x86_64" && d.Arch == 0x40000003:
		abi = "i386"
		if len(p.Syscalls["i386"]) == 0 {
			return abiDeny
		}
	case host == "arm64" && d.Arch == 0xc00000b7:
		abi = "arm64"
	default:
		return badArch
	}
	nr := uint32(d.Nr)
	if abi == "x86_64" && nr >= 0x40000000 {
		return abiDeny
	}
	if nr > uint32(linux.MaxSyscall(linux.Arch(abi))) {
		return oENOSYS
	}
	name := linux.SyscallName(linux.Arch(abi), int(nr))
	if name == "" {
		return deny
	}
	if name == "clone3" {
		return oENOSYS
	}
	learned := p.Syscalls[abi]
	allowed := map[string]bool{}
	for n := range learned {
		allowed[n] = true
	}
	if hasKey(learned, "clone3") {
		allowed["clone"] = true
	}
	// Every filter allows restart_syscall: the kernel's way to resume an
	// allowed sleep after a stop or a signal.
	allowed["restart_syscall"] = true
	ws := Widenings()
	for _, wn := range p.Widen {
		for _, g := range ws[wn].Groups {
			take := !g.Siblings
			for _, s := range g.Syscalls {
				if hasKey(learned, s) {
					take = true
				}
			}
			if take {
				for _, s := range g.Syscalls {
					allowed[s] = true
				}
			}
		}
	}
	if !allowed[name] {
		return deny
	}
	nsAll := uint32(0x02000000 | 0x08000000 | 0x00020000 | 0x40000000 | 0x20000000 | 0x80 | 0x10000000 | 0x04000000)
	var nsOK uint32
	for _, n := range p.Namespaces {
		f, _ := linux.NamespaceFlag(n)
		nsOK |= uint32(f)
	}
	lo := func(i int) uint32 { return uint32(d.Args[i]) }
	switch name {
	case "socket", "socketpair":
		for fam, fe := range p.Families {
			fn, _ := linux.FamilyNumber(fam)
			if uint32(fn) != lo(0) {
				continue
			}
			typeOK := false
			for _, t := range fe.Types {
				tn, _ := linux.SockTypeNumber(t)
				if uint32(tn) == lo(1)%16 {
					typeOK = true
				}
			}
			if !typeOK {
				return deny
			}
			// Netlink protocols listed: socket's protocol, an int (the low
			// word of args[2]), must be one of them. None listed: any.
			// socketpair is not held to them (the kernel refuses
			// AF_NETLINK pairs anyway).
			if name != "socket" || len(fe.Protocols) == 0 {
				return oAllow
			}
			for _, pr := range fe.Protocols {
				pn, _ := linux.NetlinkProtocolNumber(pr)
				if int32(lo(2)) == int32(pn) {
					return oAllow
				}
			}
			return deny
		}
		return deny
	case "clone", "unshare":
		if lo(0)&nsAll&^nsOK != 0 {
			return deny
		}
	case "setns":
		if nsOK == nsAll {
			return oAllow
		}
		t := lo(1)
		if t == 0 || t&^nsOK != 0 {
			return deny
		}
	}
	return oAllow
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// vmPacket lays d out for golang.org/x/net/bpf's VM, which loads 32-bit
// words big-endian: each word is written big-endian at the offset the
// little-endian kernel layout gives it (the low word of an argument first).
func vmPacket(d Data) []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[0:], uint32(d.Nr))
	binary.BigEndian.PutUint32(b[4:], d.Arch)
	binary.BigEndian.PutUint32(b[8:], uint32(d.IP))
	binary.BigEndian.PutUint32(b[12:], uint32(d.IP>>32))
	for i, a := range d.Args {
		binary.BigEndian.PutUint32(b[16+8*i:], uint32(a))
		binary.BigEndian.PutUint32(b[20+8*i:], uint32(a>>32))
	}
	return b
}

// checker runs one filter three ways (x/net/bpf VM, Emulate on the
// assembled program, Explain) and holds each to the oracle.
type checker struct {
	t    testing.TB
	p    *profiles.Profile
	o    oracleOpts
	f    *Filter
	vm   *bpf.VM
	raw  []bpf.RawInstruction
	fail int
}

func newChecker(t testing.TB, p *profiles.Profile, o oracleOpts) *checker {
	t.Helper()
	f, err := Compile(p, Options{Arch: o.host, DefaultAction: o.action, Complain: o.complain})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	vm, err := bpf.NewVM(f.Insns)
	if err != nil {
		t.Fatalf("NewVM: %v", err)
	}
	raw, err := f.Assemble()
	if err != nil {
		t.Fatalf("Assemble: %v", err)
	}
	return &checker{t: t, p: p, o: o, f: f, vm: vm, raw: raw}
}

func (c *checker) check(d Data) {
	c.t.Helper()
	if c.fail > 10 {
		return
	}
	want := oracle(c.p, c.o, d)
	got, err := c.vm.Run(vmPacket(d))
	if err != nil {
		c.t.Fatalf("VM: %v", err)
	}
	emu, _, err := Emulate(c.raw, d)
	if err != nil {
		c.t.Fatalf("Emulate: %v", err)
	}
	ex := c.f.Explain(d)
	if uint32(got) != want || emu != want || ex.Action != want {
		c.fail++
		c.t.Errorf("%s arch %#x nr %d (%s) args %#x: VM %s, Emulate %s, Explain %s (%s); oracle %s",
			c.p.Component, d.Arch, d.Nr, ex.Name, d.Args, ActionName(uint32(got)), ActionName(emu), ActionName(ex.Action), ex.Reason, ActionName(want))
	}
}
