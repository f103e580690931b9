package profiles_test

import (
	"fmt"
	"testing"

	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/seccomp"
)

// ociVerdict decides a syscall as libseccomp would with the OCI rules:
// the action of a rule whose name matches and whose args all hold, else
// the default action. Every rule of one name has the same action here.
func ociVerdict(s *profiles.OCISeccomp, name string, args [6]uint64) string {
	for _, r := range s.Syscalls {
		for _, n := range r.Names {
			if n != name {
				continue
			}
			ok := true
			for _, a := range r.Args {
				v := args[a.Index]
				switch a.Op {
				case "SCMP_CMP_EQ":
					ok = ok && v == a.Value
				case "SCMP_CMP_NE":
					ok = ok && v != a.Value
				case "SCMP_CMP_MASKED_EQ":
					ok = ok && v&a.Value == a.ValueTwo
				default:
					panic("op " + a.Op)
				}
			}
			if ok {
				return action(r.Action, r.ErrnoRet)
			}
		}
	}
	return action(s.DefaultAction, s.DefaultErrnoRet)
}

func action(a string, errno *uint) string {
	if errno != nil {
		return fmt.Sprintf("%s(%d)", a, *errno)
	}
	return a
}

func leashVerdict(ret uint32) string {
	switch ret & seccomp.RetActionFull {
	case seccomp.RetAllow:
		return "SCMP_ACT_ALLOW"
	case seccomp.RetErrno:
		return fmt.Sprintf("SCMP_ACT_ERRNO(%d)", ret&seccomp.RetData)
	case seccomp.RetKillProcess:
		return "SCMP_ACT_KILL_PROCESS"
	case seccomp.RetLog:
		return "SCMP_ACT_LOG"
	}
	return fmt.Sprintf("RET(%#x)", ret)
}

// argSamples returns the arguments to try for an argument-checked syscall.
func argSamples(name string) [][6]uint64 {
	var out [][6]uint64
	ns := []uint64{0}
	for _, n := range linux.NamespaceNames() {
		f, _ := linux.NamespaceFlag(n)
		ns = append(ns, f)
	}
	switch name {
	case "socket", "socketpair":
		for fam := 0; fam < linux.AFMax; fam++ {
			for _, t := range []uint64{1, 2, 3, 4, 5, 6, 10} {
				for _, fl := range []uint64{0, 0o4000, 0o2000000, 0o4000 | 0o2000000} {
					out = append(out, [6]uint64{uint64(fam), t | fl})
				}
			}
		}
		// Netlink protocols, with junk in the high word the kernel ignores.
		for pr := uint64(0); pr <= 33; pr++ {
			for _, t := range []uint64{2, 3 | 0o2000000} {
				out = append(out, [6]uint64{uint64(linux.AFNetlink), t, pr}, [6]uint64{uint64(linux.AFNetlink), t, pr | 0xdead<<32})
			}
		}
	case "clone", "unshare":
		for _, a := range ns {
			for _, b := range ns {
				out = append(out, [6]uint64{a | b | 0x100 | 0x11}) // CLONE_VM | SIGCHLD
			}
		}
	case "setns":
		for _, a := range ns {
			for _, b := range ns {
				out = append(out, [6]uint64{3, a | b})
			}
		}
	default:
		out = append(out, [6]uint64{})
	}
	return out
}

// TestOCIMatchesLeashFilter: for every x86_64 syscall, and sampled
// arguments of the argument-checked ones, the OCI profile decides as
// leash's own filter does (exports get the filter's allowed syscalls, as
// leash export passes them).
func TestOCIMatchesLeashFilter(t *testing.T) {
	web, err := profiles.Load("../testdata/profiles/web.yaml")
	if err != nil {
		t.Fatal(err)
	}
	variants := map[string]func(p *profiles.Profile){
		"web": func(p *profiles.Profile) {},
		"netlink protocols": func(p *profiles.Profile) {
			p.Syscalls["x86_64"]["socketpair"] = "/x"
			p.Families["AF_NETLINK"] = profiles.Family{Types: []string{"SOCK_RAW", "SOCK_DGRAM"}, Protocols: []string{"NETLINK_ROUTE", "NETLINK_KOBJECT_UEVENT", "NETLINK_AUDIT"}}
		},
		"netlink any protocol": func(p *profiles.Profile) {
			p.Families["AF_NETLINK"] = profiles.Family{Types: []string{"SOCK_RAW"}}
		},
		"namespaces": func(p *profiles.Profile) {
			p.Namespaces = []string{"net", "user"}
			for _, n := range []string{"clone", "unshare", "setns", "socketpair"} {
				p.Syscalls["x86_64"][n] = "/x"
			}
			p.Families["AF_NETLINK"] = profiles.Family{}
			p.Run.DefaultAction = "kill-process"
		},
		"every namespace": func(p *profiles.Profile) {
			p.Namespaces = linux.NamespaceNames()
			p.Syscalls["x86_64"]["setns"] = "/x"
			p.Run.DefaultAction = "log"
		},
	}
	for name, change := range variants {
		t.Run(name, func(t *testing.T) {
			p := web.Clone()
			change(p)
			f, err := seccomp.Compile(p, seccomp.Options{})
			if err != nil {
				t.Fatal(err)
			}
			allowed := map[string][]string{}
			for _, e := range f.Syscalls {
				if e.Action != "enosys" {
					allowed[string(e.ABI)] = append(allowed[string(e.ABI)], e.Name)
				}
			}
			oci := profiles.OCIProfile(p, profiles.ExportOptions{Allowed: allowed})
			n := 0
			for _, sc := range linux.Syscalls(linux.X86_64) {
				for _, args := range argSamples(sc.Name) {
					n++
					want := leashVerdict(f.Explain(seccomp.Data{Nr: int32(sc.Nr), Arch: linux.X86_64.AuditArch(), Args: args}).Action)
					if got := ociVerdict(oci, sc.Name, args); got != want {
						t.Errorf("%s%v: OCI %s, leash filter %s", sc.Name, args[:2], got, want)
					}
				}
			}
			if n < 1000 {
				t.Fatalf("only %d cases", n)
			}
		})
	}
}
