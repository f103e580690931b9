package seccomp

import (
	"math/rand/v2"
	"testing"

	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
)

// fuzzProfile decodes fuzz input into a valid profile and options:
//
//	data[0]  bits 0-1 default action, bit 2 complain, bit 3 arm64 host,
//	         bits 4-5 widenings, bits 6-7 override action
//	data[1]  learned namespaces, one bit each (linux.NamespaceNames order)
//	then 3-byte records: kind, hi, lo. kind%4 < 3 adds syscall
//	(hi<<8|lo) of ABI x86_64, i386 or arm64 (when it has one); kind%4 == 3
//	adds family hi%AF_MAX with the socket types of lo's bits, and for
//	AF_NETLINK the protocols of netlinkSets[hi/AF_MAX] (set 0: none, any
//	protocol).
func fuzzProfile(data []byte) (*profiles.Profile, oracleOpts) {
	p := &profiles.Profile{APIVersion: profiles.APIVersion, Component: "fuzz", Syscalls: map[string]map[string]string{}}
	var o oracleOpts
	if len(data) < 2 {
		return p, o
	}
	actions := []string{"", "errno", "kill-process", "log"}
	p.Run.DefaultAction = actions[data[0]&3]
	o.complain = data[0]&4 != 0
	if data[0]&8 != 0 {
		o.host = linux.ARM64
	}
	names := WideningNames()
	for i, n := range names {
		if data[0]&(0x10<<i) != 0 {
			p.Widen = append(p.Widen, n)
		}
	}
	o.action = actions[data[0]>>6]
	for i, n := range linux.NamespaceNames() {
		if data[1]&(1<<i) != 0 {
			p.Namespaces = append(p.Namespaces, n)
		}
	}
	types := []string{"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET", "SOCK_DCCP", "SOCK_PACKET"}
	for rec := data[2:]; len(rec) >= 3; rec = rec[3:] {
		kind, v := rec[0]%4, int(rec[1])<<8|int(rec[2])
		if kind == 3 {
			if p.Families == nil {
				p.Families = map[string]profiles.Family{}
			}
			var ts []string
			for i, t := range types {
				if rec[2]&(1<<i) != 0 {
					ts = append(ts, t)
				}
			}
			fam := profiles.Family{Types: ts}
			if int(rec[1])%linux.AFMax == linux.AFNetlink {
				fam.Protocols = netlinkSets[int(rec[1])/linux.AFMax]
			}
			p.Families[linux.FamilyName(int(rec[1])%linux.AFMax)] = fam
			continue
		}
		a := linux.Arches[kind]
		name := linux.SyscallName(a, v%(linux.MaxSyscall(a)+1))
		if name == "" {
			continue
		}
		if p.Syscalls[string(a)] == nil {
			p.Syscalls[string(a)] = map[string]string{}
		}
		p.Syscalls[string(a)][name] = "/fuzz"
	}
	return p, o
}

// netlinkSets are the AF_NETLINK protocol lists a fuzz record can pick
// (16 + 46*i for set i): the lowest and highest protocols and the common
// ones.
var netlinkSets = [...][]string{
	nil,
	{"NETLINK_ROUTE"},
	{"NETLINK_AUDIT", "NETLINK_ROUTE"},
	{"NETLINK_KOBJECT_UEVENT"},
	{"NETLINK_GENERIC", "NETLINK_SOCK_DIAG", "NETLINK_XFRM"},
	{"NETLINK_SMC", "NETLINK_USERSOCK"},
}

func FuzzCompile(f *testing.F) {
	f.Add([]byte{0, 0})
	f.Add([]byte{0x02, 0x00, 0, 0, 41, 0, 0, 56, 0, 1, 179, 3, 1, 3, 3, 2, 3})     // socket, clone, clone3, AF_UNIX, AF_INET
	f.Add([]byte{0x35, 0x42, 1, 0, 102, 1, 1, 103, 1, 1, 120, 0, 1, 16, 3, 16, 4}) // i386 socketcall and socket, widened
	f.Add([]byte{0x0b, 0xff, 2, 0, 198, 2, 0, 220, 2, 1, 12, 3, 10, 2})            // arm64, every namespace
	f.Add([]byte{0xc4, 0x11, 0, 1, 52, 0, 1, 16, 0, 1, 211, 0, 0, 0})              // setns, unshare, complain
	f.Add([]byte{0x00, 0x00, 0, 0, 41, 0, 0, 53, 1, 1, 103, 3, 108, 6, 3, 17, 6})  // socket, socketpair, i386 socket, AF_NETLINK protocols, AF_PACKET
	f.Add([]byte{0x0a, 0x00, 2, 0, 198, 3, 200, 4, 3, 16, 2})                      // arm64 socket, AF_NETLINK NETLINK_GENERIC..., then any
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 3*512 {
			return
		}
		p, o := fuzzProfile(data)
		c := newChecker(t, p, o)
		rng := rand.New(rand.NewPCG(uint64(len(data)), 1))
		host := o.host
		if host == "" {
			host = linux.X86_64
		}
		for _, arch := range hostArches(host)[:4] {
			abi := map[uint32]linux.Arch{linux.AuditArchX86_64: linux.X86_64, linux.AuditArchI386: linux.I386, linux.AuditArchAARCH64: linux.ARM64}[arch]
			for nr := uint32(0); nr <= 480; nr++ {
				name := linux.SyscallName(abi, int(nr))
				args := sampleArgs(name, rng)
				for j := 0; j < min(len(args), 24); j++ {
					c.check(Data{Nr: int32(nr), Arch: arch, Args: args[rng.IntN(len(args))]})
				}
			}
			c.check(Data{Nr: int32(linux.X32SyscallBit | rng.Uint32N(500)), Arch: arch})
			c.check(Data{Nr: -1, Arch: arch})
		}
	})
}
