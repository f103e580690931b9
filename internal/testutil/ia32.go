package testutil

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// IA32 reports whether this kernel runs i386 code: compat execve and
// int $0x80. A kernel built without IA32 emulation, or booted with it off
// (ia32_emulation=off, or a hypervisor that disables it: "32-bit emulation
// disabled" in dmesg), refuses both, so no process on it can make an i386
// syscall and tests of the i386 ABI have nothing to observe. The reason
// says which. It is not a privilege: tests skip on it even in CI, and the
// filter's i386 tree is still checked in the userspace BPF VM.
func IA32() (ok bool, reason string) {
	ia32Once.Do(func() { ia32OK, ia32Reason = probeIA32() })
	return ia32OK, ia32Reason
}

var (
	ia32Once   sync.Once
	ia32OK     bool
	ia32Reason string
)

// probeIA32 executes int80Exit: a native x86_64 program that exits
// through the i386 ABI, the way the tests make their i386 syscalls. Where
// IA32 emulation is off, int $0x80 faults and the program dies of SIGSEGV.
func probeIA32() (bool, string) {
	if runtime.GOARCH != "amd64" {
		return false, "not an x86_64 host: no i386 ABI"
	}
	dir, err := os.MkdirTemp("", "leash-ia32-")
	if err != nil {
		return false, fmt.Sprintf("probe i386: %v", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "int80exit")
	if err := os.WriteFile(path, int80Exit(), 0o755); err != nil {
		return false, fmt.Sprintf("probe i386: %v", err)
	}
	if out, err := exec.Command(path).CombinedOutput(); err != nil {
		return false, fmt.Sprintf("this kernel runs no i386 syscalls (IA32 emulation off; dmesg says so): int $0x80 from an x86_64 process: %v%s", err, out)
	}
	return true, ""
}

// int80Code is mov eax,1; xor ebx,ebx; int $0x80: i386 exit(0).
var int80Code = []byte{0xb8, 0x01, 0x00, 0x00, 0x00, 0x31, 0xdb, 0xcd, 0x80}

// int80Exit is the smallest x86_64 ELF executable that runs int80Code:
// one PT_LOAD segment holding the headers and the code.
func int80Exit() []byte {
	const (
		base    = 0x400000
		ehsize  = 64
		phsize  = 56
		codeOff = ehsize + phsize
	)
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	// ELF header.
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1 /* version */})
	b.Write(make([]byte, 9))
	w(uint16(2))              // e_type: ET_EXEC
	w(uint16(62))             // e_machine: EM_X86_64
	w(uint32(1))              // e_version
	w(uint64(base + codeOff)) // e_entry
	w(uint64(ehsize))         // e_phoff
	w(uint64(0))              // e_shoff
	w(uint32(0))              // e_flags
	w(uint16(ehsize))         // e_ehsize
	w(uint16(phsize))         // e_phentsize
	w(uint16(1))              // e_phnum
	w(uint16(0))              // e_shentsize
	w(uint16(0))              // e_shnum
	w(uint16(0))              // e_shstrndx
	// Program header: PT_LOAD of the whole file, read+execute.
	size := uint64(codeOff + len(int80Code))
	w(uint32(1))      // p_type: PT_LOAD
	w(uint32(5))      // p_flags: R|X
	w(uint64(0))      // p_offset
	w(uint64(base))   // p_vaddr
	w(uint64(base))   // p_paddr
	w(size)           // p_filesz
	w(size)           // p_memsz
	w(uint64(0x1000)) // p_align
	b.Write(int80Code)
	return b.Bytes()
}

// RequireIA32 skips the test, with the reason, where the kernel runs no
// i386 code (see IA32).
func RequireIA32(t interface {
	Helper()
	Skip(...any)
}) {
	t.Helper()
	if ok, reason := IA32(); !ok {
		t.Skip(reason)
	}
}
