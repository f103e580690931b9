//go:build !amd64

package int80

const available = false

// Syscall is not available off amd64.
func Syscall(nr, a1, a2, a3 uint32) int32 { panic("int80: only on amd64") }
