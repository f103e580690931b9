package linux

import (
	"fmt"
	"sort"
	"sync"
)

// Arch is a syscall ABI.
type Arch string

// The ABIs leash knows. X86_64 and I386 are the native and compat ABIs of an
// x86_64 kernel; ARM64 has its own table (its compat ABI, arm, is not
// supported). x32 is never allowed and so has no table.
const (
	X86_64 Arch = "x86_64"
	I386   Arch = "i386"
	ARM64  Arch = "arm64"
)

// AUDIT_ARCH values as seccomp_data.arch carries them.
const (
	AuditArchX86_64  uint32 = 0xc000003e
	AuditArchI386    uint32 = 0x40000003
	AuditArchAARCH64 uint32 = 0xc00000b7
)

// X32SyscallBit marks an x32 syscall number on an x86_64 kernel
// (__X32_SYSCALL_BIT).
const X32SyscallBit = 0x40000000

// Arches lists the ABIs with a syscall table, in a stable order.
var Arches = []Arch{X86_64, I386, ARM64}

// ParseArch returns the Arch named s.
func ParseArch(s string) (Arch, error) {
	switch Arch(s) {
	case X86_64, I386, ARM64:
		return Arch(s), nil
	}
	return "", fmt.Errorf("unknown architecture %q (want x86_64, i386 or arm64)", s)
}

// AuditArch returns the AUDIT_ARCH value of a.
func (a Arch) AuditArch() uint32 {
	switch a {
	case X86_64:
		return AuditArchX86_64
	case I386:
		return AuditArchI386
	case ARM64:
		return AuditArchAARCH64
	}
	return 0
}

func (a Arch) table() []string {
	switch a {
	case X86_64:
		return x86_64Syscalls[:]
	case I386:
		return i386Syscalls[:]
	case ARM64:
		return arm64Syscalls[:]
	}
	return nil
}

// byName maps each arch to its name-to-number map, built on first use: most
// processes (leash run among them) need one arch or none, and building all
// three at package init cost every start-up.
var byName = func() map[Arch]func() map[string]int {
	m := map[Arch]func() map[string]int{}
	for _, a := range Arches {
		m[a] = sync.OnceValue(func() map[string]int {
			names := map[string]int{}
			for nr, name := range a.table() {
				if name != "" {
					names[name] = nr
				}
			}
			return names
		})
	}
	return m
}()

// SyscallName returns the name of syscall nr of a, or "" when the table has
// no such syscall.
func SyscallName(a Arch, nr int) string {
	t := a.table()
	if nr < 0 || nr >= len(t) {
		return ""
	}
	return t[nr]
}

// SyscallNumber returns the number of the syscall called name on a.
func SyscallNumber(a Arch, name string) (int, bool) {
	names, ok := byName[a]
	if !ok {
		return 0, false
	}
	nr, ok := names()[name]
	return nr, ok
}

// MaxSyscall returns the highest syscall number in a's table. Numbers above
// it belong to kernels newer than the table.
func MaxSyscall(a Arch) int { return len(a.table()) - 1 }

// Syscall is one entry of a table.
type Syscall struct {
	Nr   int
	Name string
}

// Syscalls returns a's table sorted by number.
func Syscalls(a Arch) []Syscall {
	var out []Syscall
	for nr, name := range a.table() {
		if name != "" {
			out = append(out, Syscall{nr, name})
		}
	}
	return out
}

// SyscallNames returns a's syscall names, sorted.
func SyscallNames(a Arch) []string {
	var out []string
	for _, name := range a.table() {
		if name != "" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
