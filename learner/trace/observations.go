package trace

import "errors"

// ErrEnvironment is matched by errors that mean this host cannot trace:
// not privileged enough, no BTF, no usable hook.
var ErrEnvironment = errors.New("cannot trace on this host")

// EnvError is a host problem; it matches ErrEnvironment.
type EnvError struct{ Msg string }

func (e *EnvError) Error() string        { return e.Msg }
func (e *EnvError) Is(target error) bool { return target == ErrEnvironment }

// ABI names, as linux.Arch spells them.
const (
	ABINative = "x86_64"
	ABICompat = "i386"
)

// Observations is what one session recorded. It is the input of
// learner.Build, and is stored as JSON in testdata for golden tests.
type Observations struct {
	// Syscalls seen, sorted by ABI then number.
	Syscalls []SyscallObs `json:"syscalls"`
	// Caps: one entry per (capability, noaudit) pair.
	Caps []CapObs `json:"caps,omitempty"`
	// Families: one entry per (family, type) pair from socket, socketpair
	// and socketcall.
	Families []FamilyObs `json:"families,omitempty"`
	// NamespaceFlags ORs the CLONE_NEW* flags of clone, clone3, unshare
	// and setns.
	NamespaceFlags uint64 `json:"namespaceFlags,omitempty"`
	// Executables lists the paths exec'd, in order of first exec, unique.
	Executables []string `json:"executables,omitempty"`
	// ExeFiles lists the files exec'd with their identity at the exec, in
	// order of first exec, one per distinct (path, identity): a path
	// exec'd, replaced and exec'd again is there twice.
	ExeFiles []ExeFile `json:"exeFiles,omitempty"`
	// Handoffs lists the subtrees handed to a nested tracer, sorted.
	Handoffs []HandoffObs `json:"handoffs,omitempty"`
	// Processes counts the processes (not threads) tracked.
	Processes uint64 `json:"processes,omitempty"`
	// Live counts the tasks of the session still alive.
	Live uint64 `json:"live,omitempty"`
	// Incomplete names the tables that filled up or reads that failed.
	Incomplete []string `json:"incomplete,omitempty"`
}

// FileID is the identity of a file as the exec hook reads it from the
// inode: the device (the kernel's s_dev, major<<20 | minor), the inode
// number and the change time. A zero FileID is unknown (an interpreted
// exec: see struct exe in bpf/leash.bpf.c).
type FileID struct {
	Dev       uint32 `json:"dev,omitempty"`
	Ino       uint64 `json:"ino,omitempty"`
	CtimeSec  int64  `json:"ctimeSec,omitempty"`
	CtimeNsec uint32 `json:"ctimeNsec,omitempty"`
}

// Known reports whether the identity was read.
func (id FileID) Known() bool { return id.Ino != 0 }

// ExeFile is one file exec'd: its path and, when known, its identity at
// the exec.
type ExeFile struct {
	Path string `json:"path"`
	ID   FileID `json:"id,omitzero"`
}

// HandoffObs is a subtree of the session handed to a nested tracer, by
// the executable of the process that left ("" when it was not recorded).
type HandoffObs struct {
	Exe string `json:"exe"`
	// Leash: that process runs leash's own binary (the tracer's, by inode).
	// Otherwise it is a process of another binary that announced itself
	// as a leash tracer: honoured, but the run is incomplete.
	Leash bool `json:"leash,omitempty"`
}

// SyscallObs is one syscall number seen on one ABI.
type SyscallObs struct {
	ABI string `json:"abi"`
	Nr  int    `json:"nr"`
	Exe string `json:"exe,omitempty"` // first executable seen making it
}

// CapObs counts the checks of one capability, audited or noaudit.
type CapObs struct {
	Cap     int    `json:"cap"`
	Noaudit bool   `json:"noaudit,omitempty"`
	Granted uint64 `json:"granted,omitempty"`
	Denied  uint64 `json:"denied,omitempty"`
	Exe     string `json:"exe,omitempty"`
}

// FamilyObs counts sockets of one family, type and (AF_NETLINK only)
// protocol.
type FamilyObs struct {
	Family   int    `json:"family"`
	Type     int    `json:"type"`
	Protocol int    `json:"protocol,omitempty"`
	Count    uint64 `json:"count"`
	Exe      string `json:"exe,omitempty"`
}

// Stats is a cheap summary for a status line.
type Stats struct {
	Live         uint64
	Processes    uint64
	Syscalls     int
	Capabilities int // distinct capabilities checked
	Families     int // distinct families
}

// Incomplete bits set by the BPF programs (enum incomplete_bit in
// bpf/leash.bpf.c).
const (
	incompleteTasks      = 1 << 0
	incompleteProvenance = 1 << 1
	incompleteCaps       = 1 << 2
	incompleteFamilies   = 1 << 3
	incompleteExes       = 1 << 4
	incompleteSyscallNr  = 1 << 5
	incompleteUserRead   = 1 << 6
	incompleteNested     = 1 << 7
	incompleteHandoffs   = 1 << 8
)

// IncompleteReasons names the incomplete bits set in bits.
func IncompleteReasons(bits uint64) []string {
	var out []string
	for _, r := range []struct {
		bit uint64
		msg string
	}{
		{incompleteTasks, "tracked-task table full: some processes or threads were not followed"},
		{incompleteProvenance, "syscall provenance table full: some syscalls lack their first executable"},
		{incompleteCaps, "capability table full: some capability checks were not recorded"},
		{incompleteFamilies, "socket family table full: some socket families were not recorded"},
		{incompleteExes, "executable table full: some executables were not recorded"},
		{incompleteSyscallNr, "syscall number out of range (>= 512) seen and not recorded"},
		{incompleteUserRead, "could not read a syscall argument from user memory (clone3 or socketcall)"},
		{incompleteNested, "nested-tracer table full: a nested leash learn's activity may be in this profile"},
		{incompleteHandoffs, "handoff table full: a process left this recording for a nested tracer and is not named"},
	} {
		if bits&r.bit != 0 {
			out = append(out, r.msg)
		}
	}
	return out
}
