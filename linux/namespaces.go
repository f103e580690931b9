package linux

import "sort"

// Namespace clone flags (CLONE_NEW*), as clone, unshare and setns take them.
var namespaceFlags = map[string]uint64{
	"cgroup": 0x02000000,
	"ipc":    0x08000000,
	"mnt":    0x00020000,
	"net":    0x40000000,
	"pid":    0x20000000,
	"time":   0x00000080,
	"user":   0x10000000,
	"uts":    0x04000000,
}

// NamespaceFlag returns the CLONE_NEW* flag of namespace name (cgroup, ipc,
// mnt, net, pid, time, user, uts).
func NamespaceFlag(name string) (uint64, bool) {
	f, ok := namespaceFlags[name]
	return f, ok
}

// NamespaceNames returns the namespace names, sorted.
func NamespaceNames() []string {
	var out []string
	for n := range namespaceFlags {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// AllNamespaceFlags is the union of every CLONE_NEW* flag.
const AllNamespaceFlags uint64 = 0x02000000 | 0x08000000 | 0x00020000 | 0x40000000 |
	0x20000000 | 0x00000080 | 0x10000000 | 0x04000000
