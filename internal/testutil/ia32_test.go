package testutil

import (
	"bytes"
	"debug/elf"
	"testing"
)

// TestInt80Exit checks the probe's program is a well-formed x86_64
// executable whose entry point is the exit code, so that IA32 cannot
// report "off" because of a broken probe.
func TestInt80Exit(t *testing.T) {
	img := int80Exit()
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("parse the probe ELF: %v", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		t.Fatalf("probe ELF is %v %v %v, want ELFCLASS64 EM_X86_64 ET_EXEC", f.Class, f.Machine, f.Type)
	}
	if len(f.Progs) != 1 || f.Progs[0].Type != elf.PT_LOAD || f.Progs[0].Filesz != uint64(len(img)) {
		t.Fatalf("probe ELF program headers = %+v, want one PT_LOAD of the whole file", f.Progs)
	}
	p := f.Progs[0]
	off := f.Entry - p.Vaddr
	want := []byte{0xb8, 1, 0, 0, 0, 0x31, 0xdb, 0xcd, 0x80} // i386 exit(0) via int $0x80
	if off >= p.Filesz || !bytes.Equal(img[off:], want) {
		t.Fatalf("entry %#x does not point at exit(0) via int $0x80: % x", f.Entry, img[min(off, uint64(len(img))):])
	}
}
