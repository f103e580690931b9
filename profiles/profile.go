// Package profiles holds the profile schema: what a component was seen to
// need, and how it is to be run. It loads, validates and saves profiles,
// merges and diffs them, and exports them to systemd, OCI and Kubernetes.
//
// A profile is a YAML file, one component per file, written in a fixed
// order so that diffs are clean. Comments are allowed. It never needs root.
package profiles

// APIVersion is the only profile version this leash reads and writes.
const APIVersion = "leash/v1"

// Profile is one component's learned privilege and its run options.
type Profile struct {
	APIVersion string `yaml:"apiVersion" json:"apiVersion"`
	Component  string `yaml:"component" json:"component"`

	// Syscalls maps an ABI (linux.Arch: x86_64, i386) to the syscalls seen on
	// it, each with the first executable that made it.
	Syscalls map[string]map[string]string `yaml:"syscalls" json:"syscalls"`

	Capabilities Capabilities `yaml:"capabilities" json:"capabilities"`

	// Families maps an address family (AF_*) to its socket types (and,
	// for AF_NETLINK, its protocols), from socket(2), socketpair(2) and
	// i386 socketcall(2).
	Families map[string]Family `yaml:"families,omitempty" json:"families,omitempty"`

	// Namespaces lists the namespaces (linux.NamespaceNames) the component
	// was seen to create or join with clone, unshare or setns. The filter
	// denies the CLONE_NEW* flags of every other one.
	Namespaces []string `yaml:"namespaces,omitempty" json:"namespaces,omitempty"`

	// Widen names opt-in widenings (e.g. go-runtime) that add sibling
	// syscalls a short training run may miss.
	Widen []string `yaml:"widen,omitempty" json:"widen,omitempty"`

	Run        RunOptions `yaml:"run" json:"run"`
	Provenance Provenance `yaml:"provenance" json:"provenance"`
}

// Capabilities sorts the capability checks seen by how they ended.
type Capabilities struct {
	// Needed: granted at least once in an audited check. These are what
	// the component keeps.
	Needed map[string]CapUse `yaml:"needed,omitempty" json:"needed,omitempty"`
	// Noaudit: only ever checked silently (CAP_OPT_NOAUDIT), such as the
	// CAP_SYS_ADMIN probe of every mmap. Not needed.
	Noaudit map[string]CapUse `yaml:"noaudit,omitempty" json:"noaudit,omitempty"`
	// Denied: checked, audited, and never granted.
	Denied map[string]CapUse `yaml:"denied,omitempty" json:"denied,omitempty"`
}

// CapUse counts the checks of one capability.
type CapUse struct {
	Granted uint64 `yaml:"granted,omitempty" json:"granted,omitempty"`
	Denied  uint64 `yaml:"denied,omitempty" json:"denied,omitempty"`
	// By is the first executable seen making the check.
	By string `yaml:"by,omitempty" json:"by,omitempty"`
}

// Family is one address family's use.
type Family struct {
	Types []string `yaml:"types,flow" json:"types"`
	// Protocols, for AF_NETLINK only, names the netlink protocols
	// (NETLINK_ROUTE, NETLINK_AUDIT, ...) of its sockets: each is a
	// different kernel subsystem. An AF_NETLINK family without protocols
	// (a profile learned before leash recorded them) means any netlink
	// protocol: the filter does not check socket(2)'s third argument, the
	// exports allow every protocol, and diff counts listing protocols as
	// narrowing, never as a grant.
	Protocols []string `yaml:"protocols,omitempty,flow" json:"protocols,omitempty"`
	By        string   `yaml:"by,omitempty" json:"by,omitempty"`
}

// RunOptions say how `leash run` confines the component.
type RunOptions struct {
	User  string `yaml:"user,omitempty" json:"user,omitempty"`
	Group string `yaml:"group,omitempty" json:"group,omitempty"`
	// Namespaces to create for the component: ipc, mnt, net, pid, uts.
	Namespaces    []string `yaml:"namespaces,omitempty,flow" json:"namespaces,omitempty"`
	PrivateTmp    bool     `yaml:"privateTmp,omitempty" json:"privateTmp,omitempty"`
	ProtectSystem string   `yaml:"protectSystem,omitempty" json:"protectSystem,omitempty"` // "", "full", "strict"
	ProtectHome   bool     `yaml:"protectHome,omitempty" json:"protectHome,omitempty"`
	// PrivateDevices gives the component a /dev of its own with only the
	// pseudo devices (null, zero, full, random, urandom, tty, a pty
	// instance, shm), as systemd's PrivateDevices=; ProtectKernelTunables
	// makes /proc/sys, /proc/sysrq-trigger, /proc/irq, /proc/bus, /proc/fs
	// and /sys read-only, as systemd's ProtectKernelTunables=. Unset, both
	// are on whenever leash run runs as root: a uid 0 component without a
	// single capability still owns the root-owned device nodes (the raw
	// disk) and tunables (kernel.core_pattern runs a program as root on
	// the host). Set them to false for a component that needs real
	// devices or writes sysctls.
	PrivateDevices        *bool `yaml:"privateDevices,omitempty" json:"privateDevices,omitempty"`
	ProtectKernelTunables *bool `yaml:"protectKernelTunables,omitempty" json:"protectKernelTunables,omitempty"`
	// DefaultAction for syscalls outside the profile: errno (EPERM, the
	// default), kill-process or log.
	DefaultAction string `yaml:"defaultAction,omitempty" json:"defaultAction,omitempty"`
	// ClearEnv starts the component with an empty environment but for Env.
	ClearEnv bool     `yaml:"clearEnv,omitempty" json:"clearEnv,omitempty"`
	Env      []string `yaml:"env,omitempty" json:"env,omitempty"`
}

// DevicesPrivate says whether leash run gives the component a /dev of
// its own (PrivateDevices: unset means yes).
func (r RunOptions) DevicesPrivate() bool { return r.PrivateDevices == nil || *r.PrivateDevices }

// KernelTunablesProtected says whether leash run makes the kernel's
// tunables read-only (ProtectKernelTunables: unset means yes).
func (r RunOptions) KernelTunablesProtected() bool {
	return r.ProtectKernelTunables == nil || *r.ProtectKernelTunables
}

// Provenance tells a reviewer where the profile came from.
type Provenance struct {
	Runs []Run `yaml:"runs" json:"runs"`
	// Executables lists every program exec'd during learning, by path,
	// with the sha256 of its content at the time.
	Executables []Executable `yaml:"executables,omitempty" json:"executables,omitempty"`
}

// Run is one training run.
type Run struct {
	Command   []string `yaml:"command,flow" json:"command"`
	User      string   `yaml:"user" json:"user"`
	Host      string   `yaml:"host,omitempty" json:"host,omitempty"`
	Kernel    string   `yaml:"kernel" json:"kernel"`
	Leash     string   `yaml:"leash" json:"leash"`
	Started   string   `yaml:"started" json:"started"` // RFC 3339
	Duration  string   `yaml:"duration,omitempty" json:"duration,omitempty"`
	ExitCode  int      `yaml:"exitCode" json:"exitCode"`
	Processes uint64   `yaml:"processes,omitempty" json:"processes,omitempty"`
	// Methods names the hooks used (e.g. syscalls: raw_tp/sys_enter).
	Methods map[string]string `yaml:"methods,omitempty" json:"methods,omitempty"`
	// Incomplete says why the run may have missed something (a full table,
	// tracking started late). Empty when nothing was missed.
	Incomplete []string `yaml:"incomplete,omitempty" json:"incomplete,omitempty"`
	// Handoffs lists the parts of the run handed to a nested tracer (a
	// leash learn or run inside the component): from the handoff on,
	// nothing that process and its children did is in this profile.
	// Sorted by executable, then how.
	Handoffs []Handoff `yaml:"handoffs,omitempty" json:"handoffs,omitempty"`
}

// Handoff is one subtree of a training run that a nested tracer took over.
type Handoff struct {
	// Executable is the program of the process that left the recording
	// (HandoffUnknownExecutable when the recorder could not name it).
	Executable string `yaml:"executable" json:"executable"`
	// How it left: HandoffLeash or HandoffAnnounced.
	How string `yaml:"how" json:"how"`
}

// Ways a process leaves a recording for a nested tracer.
const (
	// HandoffLeash: it runs the learning leash's own binary (the same
	// file, by device and inode), exec'd or announced.
	HandoffLeash = "leash"
	// HandoffAnnounced: it runs another binary and announced itself as a
	// leash tracer. Honoured, since another build or version of leash
	// cannot be told from any program that makes the same call, but the
	// run is marked incomplete.
	HandoffAnnounced = "announced"
)

// HandoffUnknownExecutable names the executable of a handoff whose
// process's executable was not recorded (a full table).
const HandoffUnknownExecutable = "(not recorded)"

// HandoffHows lists the valid Handoff.How values.
var HandoffHows = []string{HandoffLeash, HandoffAnnounced}

// Executable is one program exec'd during learning.
type Executable struct {
	Path   string `yaml:"path" json:"path"`
	SHA256 string `yaml:"sha256" json:"sha256"`
}
