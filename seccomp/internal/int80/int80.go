// Package int80 makes i386 (compat ABI) syscalls from a 64-bit process with
// int $0x80, so the seccomp kernel tests can check a filter's i386 tree: the
// kernel hands such syscalls to seccomp with AUDIT_ARCH_I386 and i386
// syscall numbers. It is for tests only.
package int80

// Available reports whether Syscall works on this architecture.
const Available = available
