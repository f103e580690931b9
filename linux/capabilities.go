package linux

import "fmt"

// Capability names, indexed by number, up to CAP_CHECKPOINT_RESTORE (40).
var capNames = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// CapLast is the highest capability number leash knows.
const CapLast = len(capNames) - 1

var capByName = func() map[string]int {
	m := map[string]int{}
	for i, n := range capNames {
		m[n] = i
	}
	return m
}()

// CapName returns the CAP_* name of capability c.
func CapName(c int) string {
	if c < 0 || c > CapLast {
		return fmt.Sprintf("CAP_%d", c)
	}
	return capNames[c]
}

// CapNumber returns the number of the capability called name (CAP_*).
func CapNumber(name string) (int, bool) {
	c, ok := capByName[name]
	return c, ok
}

// CapNames returns all capability names in number order.
func CapNames() []string { return append([]string(nil), capNames[:]...) }
