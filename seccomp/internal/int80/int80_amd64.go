package int80

const available = true

// Syscall makes i386 syscall nr with up to three arguments and returns the
// raw eax: a result, or -errno.
//
//go:noescape
func Syscall(nr, a1, a2, a3 uint32) int32
