package linux

import "testing"

func TestSyscallTables(t *testing.T) {
	tests := []struct {
		arch Arch
		name string
		nr   int
	}{
		{X86_64, "read", 0},
		{X86_64, "socket", 41},
		{X86_64, "clone3", 435},
		{X86_64, "file_getattr", 468},
		{X86_64, "file_setattr", 469},
		{I386, "socketcall", 102},
		{I386, "socket", 359},
		{I386, "getpid", 20},
		{I386, "clone3", 435},
		{ARM64, "openat", 56},
		{ARM64, "file_setattr", 469},
	}
	for _, tt := range tests {
		if got := SyscallName(tt.arch, tt.nr); got != tt.name {
			t.Errorf("SyscallName(%s, %d) = %q, want %q", tt.arch, tt.nr, got, tt.name)
		}
		if nr, ok := SyscallNumber(tt.arch, tt.name); !ok || nr != tt.nr {
			t.Errorf("SyscallNumber(%s, %q) = %d, %v, want %d", tt.arch, tt.name, nr, ok, tt.nr)
		}
	}
	for _, a := range Arches {
		if got := MaxSyscall(a); got != 469 {
			t.Errorf("MaxSyscall(%s) = %d, want 469 (file_setattr, Linux 6.18)", a, got)
		}
	}
	if _, ok := SyscallNumber(ARM64, "open"); ok {
		t.Error("arm64 has no open(2), but the table names one")
	}
	if SyscallName(X86_64, 470) != "" || SyscallName(X86_64, -1) != "" {
		t.Error("numbers outside the table must have no name")
	}
}

func TestNames(t *testing.T) {
	if n, ok := CapNumber("CAP_SYS_ADMIN"); !ok || n != 21 {
		t.Errorf("CAP_SYS_ADMIN = %d, %v", n, ok)
	}
	if CapName(40) != "CAP_CHECKPOINT_RESTORE" || CapLast != 40 {
		t.Errorf("last capability: %s (%d)", CapName(40), CapLast)
	}
	if f, ok := FamilyNumber("AF_NETLINK"); !ok || f != 16 {
		t.Errorf("AF_NETLINK = %d, %v", f, ok)
	}
	if SockTypeName(1|0o4000|0o2000000) != "SOCK_STREAM" {
		t.Error("socket type flags must be masked")
	}
	var all uint64
	for _, n := range NamespaceNames() {
		f, _ := NamespaceFlag(n)
		all |= f
	}
	if all != AllNamespaceFlags {
		t.Errorf("namespace flags union %#x != %#x", all, AllNamespaceFlags)
	}
}
