// Command count is the Go side of bench/seccomp: it lists a profile's
// syscalls for libseccomp and counts the instructions seccomp filters run,
// in seccomp.Emulate, for every syscall number of the x86_64 table.
//
//	count names PROFILE             x86_64 syscall names, one a line
//	count steps LABEL=FILE...       instructions per syscall, min/median/max,
//	                                for getppid, and how many allowed syscalls
//	                                the kernel's action cache answers
//	                                (seccomp.ConstAllow)
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strings"

	"golang.org/x/net/bpf"

	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/seccomp"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "count: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 2 && args[0] == "names":
		p, err := profiles.Load(args[1])
		if err != nil {
			return err
		}
		// What leash's filter allows (the learned syscalls and
		// restart_syscall, which every leash filter allows), so that
		// libseccomp's filters get the same policy.
		f, err := seccomp.Compile(p, seccomp.Options{Arch: linux.X86_64})
		if err != nil {
			return err
		}
		var names []string
		for _, e := range f.Syscalls {
			if e.ABI == linux.X86_64 && e.Action != "enosys" {
				names = append(names, e.Name)
			}
		}
		sort.Strings(names)
		fmt.Println(strings.Join(names, "\n"))
		return nil
	case len(args) >= 2 && args[0] == "steps":
		return steps(args[1:])
	}
	return fmt.Errorf("usage: count names PROFILE | count steps LABEL=FILE...")
}

type prog struct {
	label string
	raw   []bpf.RawInstruction
}

func load(spec string) (prog, error) {
	label, path, ok := strings.Cut(spec, "=")
	if !ok {
		return prog{}, fmt.Errorf("want LABEL=FILE, got %q", spec)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return prog{}, fmt.Errorf("read filter: %w", err)
	}
	if len(b)%8 != 0 {
		return prog{}, fmt.Errorf("%s: %d bytes is not a whole number of instructions", path, len(b))
	}
	p := prog{label: label}
	for i := 0; i < len(b); i += 8 {
		p.raw = append(p.raw, bpf.RawInstruction{Op: binary.LittleEndian.Uint16(b[i:]), Jt: b[i+2], Jf: b[i+3], K: binary.LittleEndian.Uint32(b[i+4:])})
	}
	return p, nil
}

func steps(specs []string) error {
	var progs []prog
	for _, s := range specs {
		p, err := load(s)
		if err != nil {
			return err
		}
		progs = append(progs, p)
	}
	table := linux.Syscalls(linux.X86_64)
	verdicts := make([][]uint32, len(progs))
	getppid, _ := linux.SyscallNumber(linux.X86_64, "getppid")
	fmt.Printf("%-22s %6s  %-28s  %-28s  %7s  %s\n", "filter", "insns", "all x86_64 syscalls min/med/max", "allowed syscalls min/med/max", "getppid", "kernel-cached")
	for i, p := range progs {
		var all, allowed []int
		cached := 0
		_, ppid, err := seccomp.Emulate(p.raw, seccomp.Data{Nr: int32(getppid), Arch: linux.AuditArchX86_64})
		if err != nil {
			return fmt.Errorf("%s: getppid: %w", p.label, err)
		}
		for _, s := range table {
			if seccomp.ConstAllow(p.raw, linux.AuditArchX86_64, int32(s.Nr)) {
				cached++
			}
			ret, n, err := seccomp.Emulate(p.raw, seccomp.Data{Nr: int32(s.Nr), Arch: linux.AuditArchX86_64})
			if err != nil {
				return fmt.Errorf("%s: nr %d: %w", p.label, s.Nr, err)
			}
			verdicts[i] = append(verdicts[i], ret)
			all = append(all, n)
			if ret == seccomp.RetAllow {
				allowed = append(allowed, n)
			}
		}
		fmt.Printf("%-22s %6d  %-28s  %-28s  %7d  %d of %d allowed\n", p.label, len(p.raw), stats(all), stats(allowed), ppid, cached, len(allowed))
		if cached != len(allowed) {
			return fmt.Errorf("%s: the kernel's action cache answers %d of its %d allowed syscalls; without argument rules it must answer all", p.label, cached, len(allowed))
		}
	}
	// The filters must agree on what they allow; leash answers clone3
	// ENOSYS where libseccomp says EPERM, by design.
	for i := 1; i < len(progs); i++ {
		for j, s := range table {
			a, b := verdicts[0][j], verdicts[i][j]
			if (a == seccomp.RetAllow) != (b == seccomp.RetAllow) {
				return fmt.Errorf("%s and %s disagree on %s: %s vs %s", progs[0].label, progs[i].label, s.Name, seccomp.ActionName(a), seccomp.ActionName(b))
			}
		}
	}
	fmt.Printf("all %d filters allow the same %d x86_64 syscalls\n", len(progs), countAllow(verdicts[0]))
	return nil
}

func countAllow(v []uint32) int {
	n := 0
	for _, r := range v {
		if r == seccomp.RetAllow {
			n++
		}
	}
	return n
}

func stats(v []int) string {
	if len(v) == 0 {
		return "-"
	}
	sort.Ints(v)
	return fmt.Sprintf("%d / %d / %d", v[0], v[len(v)/2], v[len(v)-1])
}
