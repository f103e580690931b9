package launch

import "syscall"

// haveCloneOnStack: on arm64 the init is a plain fork of the launcher
// (forkChild); only amd64 has the cloneOnStack trampoline.
const haveCloneOnStack = false

// cloneOnStack is never called on arm64 (haveCloneOnStack).
//
//go:nosplit
//go:norace
func cloneOnStack(flags, stack uintptr, pl *plan) (pid, err uintptr) {
	return 0, uintptr(syscall.ENOSYS)
}
