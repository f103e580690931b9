package launch

// haveCloneOnStack: the init starts on a stack of its own with CLONE_VM
// (vfork_linux_amd64.s), sharing the launcher's memory instead of copying
// it.
const haveCloneOnStack = true

// cloneOnStack is clone(flags) with the child running initMain(pl) on
// stack (the top of a region of its own); see vfork_linux_amd64.s.
func cloneOnStack(flags, stack uintptr, pl *plan) (pid, err uintptr)
