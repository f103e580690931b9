package analyze

// The rated items. Points are a judgement of how much each one adds to
// what a compromised component could do; the package doc says how they
// become the score. Every why is one line.

type rated struct {
	points float64
	why    string
}

// capabilities rates every capability in linux.CapNames (a test checks
// that none is missing).
var capabilities = map[string]rated{
	"CAP_SYS_MODULE":         {20, "loads kernel modules: arbitrary code in the kernel"},
	"CAP_SYS_ADMIN":          {15, "the catch-all (mount, namespaces, BPF, devices, quotas): as good as root in most escapes"},
	"CAP_SYS_RAWIO":          {15, "raw I/O to devices, memory and I/O ports (/dev/mem, iopl): takes over the machine"},
	"CAP_SYS_PTRACE":         {10, "traces any process and reads or writes its memory, other components' secrets included"},
	"CAP_DAC_OVERRIDE":       {10, "ignores file permissions: reads and writes any file"},
	"CAP_DAC_READ_SEARCH":    {10, "lets a compromised component read any file, such as another component's credential files"},
	"CAP_BPF":                {10, "loads BPF programs and maps; with CAP_PERFMON it reads kernel memory"},
	"CAP_SETUID":             {10, "becomes any user, root included"},
	"CAP_MAC_ADMIN":          {10, "changes the MAC policy (SELinux, AppArmor, Smack)"},
	"CAP_MAC_OVERRIDE":       {10, "overrides the MAC policy"},
	"CAP_NET_ADMIN":          {8, "reconfigures interfaces, routes and firewall rules: redirects or sniffs other components' traffic"},
	"CAP_SETGID":             {8, "joins any group, such as shadow, disk or docker"},
	"CAP_SETFCAP":            {8, "sets file capabilities: plants a privileged binary for later"},
	"CAP_SYS_BOOT":           {8, "reboots the machine or loads a new kernel with kexec"},
	"CAP_SETPCAP":            {6, "changes capability sets and securebits, hands its capabilities to programs it starts"},
	"CAP_CHOWN":              {6, "takes ownership of any file"},
	"CAP_FOWNER":             {6, "acts as the owner of any file: chmod, ACLs, timestamps of files it does not own"},
	"CAP_CHECKPOINT_RESTORE": {6, "checkpoint/restore powers: picks PIDs, reads other processes' /proc/PID/map_files"},
	"CAP_NET_RAW":            {5, "raw and packet sockets: spoofs packets and sniffs its network namespace's traffic"},
	"CAP_PERFMON":            {5, "monitors the performance of any process and the kernel; leaks kernel addresses"},
	"CAP_AUDIT_CONTROL":      {5, "changes or disables audit rules, hiding what it does"},
	"CAP_IPC_OWNER":          {5, "bypasses permission checks on System V IPC: other programs' shared memory"},
	"CAP_SYS_CHROOT":         {4, "chroot: with a writable directory, tricks setuid programs into loading its files"},
	"CAP_MKNOD":              {4, "creates device nodes, such as one for a raw disk"},
	"CAP_SYS_TIME":           {4, "sets the system clock: defeats certificate and token expiry"},
	"CAP_KILL":               {4, "signals any process: stops or kills other components"},
	"CAP_FSETID":             {3, "keeps set-user-ID and set-group-ID bits on files it changes"},
	"CAP_LINUX_IMMUTABLE":    {3, "clears the immutable and append-only flags, e.g. of logs"},
	"CAP_SYSLOG":             {3, "reads the kernel log and kernel addresses"},
	"CAP_SYS_RESOURCE":       {3, "overrides resource limits and quotas, fills reserved disk space"},
	"CAP_AUDIT_READ":         {2, "reads the audit log over netlink, which records other users' actions"},
	"CAP_SYS_NICE":           {2, "raises priorities and pins other processes' CPUs: starves the system"},
	"CAP_SYS_PACCT":          {2, "turns process accounting on or off"},
	"CAP_SYS_TTY_CONFIG":     {2, "configures and hangs up terminals"},
	"CAP_AUDIT_WRITE":        {1, "writes records into the audit log"},
	"CAP_IPC_LOCK":           {1, "locks memory, which can pin the host's RAM"},
	"CAP_NET_BIND_SERVICE":   {1, "binds ports below 1024: can stand in for a system service whose port is free"},
	"CAP_NET_BROADCAST":      {1, "broadcast and multicast"},
	"CAP_LEASE":              {1, "takes leases on files it does not own"},
	"CAP_WAKE_ALARM":         {1, "sets alarms that wake the system"},
	"CAP_BLOCK_SUSPEND":      {1, "blocks system suspend"},
}

// unratedCapability rates a capability leash has no entry for.
var unratedCapability = rated{3, "a capability leash does not rate; review it by hand"}

// syscallGroup is a set of related syscalls rated as one: allowing any of
// them is the finding.
type syscallGroup struct {
	name     string
	syscalls []string
	rated
}

// syscallGroups lists the syscalls that matter most when a component is
// compromised. Names are checked against the syscall tables in a test.
var syscallGroups = []syscallGroup{
	{"kexec", []string{"kexec_load", "kexec_file_load"}, rated{20, "replaces the running kernel"}},
	{"kernel modules", []string{"init_module", "finit_module", "delete_module"}, rated{20, "loads or unloads kernel modules"}},
	{"port I/O", []string{"iopl", "ioperm"}, rated{15, "direct access to hardware I/O ports"}},
	{"io_uring", []string{"io_uring_setup", "io_uring_enter", "io_uring_register"}, rated{10, "io_uring operations bypass seccomp: reads, writes, opens and connects queued on a ring are never seen by the filter"}},
	{"ptrace", []string{"ptrace"}, rated{8, "reads and writes the memory and registers of other processes of the same user"}},
	{"bpf", []string{"bpf"}, rated{8, "loads BPF programs: with CAP_BPF it traces the kernel, without it the verifier is a large attack surface"}},
	{"mount", []string{"mount", "umount", "umount2", "pivot_root", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "open_tree_attr", "mount_setattr"}, rated{8, "changes what the filesystem looks like; inside a new user namespace that takes no real privilege"}},
	{"open_by_handle_at", []string{"open_by_handle_at"}, rated{8, "opens files by handle, bypassing path permission checks (the 'shocker' container escape)"}},
	{"process_vm_*", []string{"process_vm_readv", "process_vm_writev"}, rated{6, "reads (readv) or writes (writev) the memory of other processes of the same user"}},
	{unshareGroup, []string{"unshare", "setns"}, rated{6, "creates or joins namespaces; a new user namespace grants every capability inside it"}},
	{"reboot", []string{"reboot"}, rated{6, "reboots or halts the machine"}},
	{"pidfd_getfd", []string{"pidfd_getfd"}, rated{5, "copies open file descriptors, sockets and credential files included, out of other processes of the same user"}},
	{"perf_event_open", []string{"perf_event_open"}, rated{5, "profiles processes and the kernel; a frequent source of kernel exploits"}},
	{"userfaultfd", []string{"userfaultfd"}, rated{5, "stalls the kernel's accesses to its memory at will: the classic way to win kernel race conditions"}},
	{"keyrings", []string{"keyctl", "add_key", "request_key"}, rated{4, "reaches the kernel keyrings, which are not namespaced"}},
	{"swap", []string{"swapon", "swapoff"}, rated{4, "adds or removes swap space"}},
	{"personality", []string{"personality"}, rated{3, "turns off ASLR (ADDR_NO_RANDOMIZE) or sets READ_IMPLIES_EXEC for the programs it starts"}},
	{"legacy x86 modes", []string{"modify_ldt", "vm86", "vm86old"}, rated{3, "legacy x86 segment and virtual-8086 modes with a history of kernel bugs"}},
	{"clock", []string{"settimeofday", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex", "stime"}, rated{3, "sets the system clock"}},
	{"chroot", []string{"chroot"}, rated{3, "changes its root directory; with a writable one it can fool setuid programs"}},
	{"fanotify", []string{"fanotify_init", "fanotify_mark"}, rated{3, "watches, and can block, file access across a whole mount or filesystem"}},
	{"syslog", []string{"syslog"}, rated{2, "reads or clears the kernel log"}},
	{"acct", []string{"acct"}, rated{2, "turns process accounting on or off"}},
	{"quotactl", []string{"quotactl", "quotactl_fd"}, rated{2, "manages disk quotas"}},
	{"process_madvise", []string{"process_madvise"}, rated{2, "acts on the memory of other processes of the same user"}},
	{"page migration", []string{"move_pages", "migrate_pages"}, rated{2, "moves the memory of other processes of the same user between NUMA nodes"}},
	{"obsolete syscalls", []string{"uselib", "_sysctl", "nfsservctl", "lookup_dcookie"}, rated{2, "obsolete syscalls: old kernel code no modern program needs"}},
	{"name_to_handle_at", []string{"name_to_handle_at"}, rated{1, "reads file handles, the first half of an open_by_handle_at escape"}},
	{"kcmp", []string{"kcmp"}, rated{1, "compares the kernel objects of other processes: tells which files they share"}},
}

// unshareGroup is rated unshareNoNew when the profile may create no
// namespace: the filter then denies every CLONE_NEW* flag to unshare and
// setns, and what the namespaces may do is rated as create-namespace.
const unshareGroup = "unshare/setns"

var unshareNoNew = rated{0.5, "allowed without CLONE_NEW* flags only (the filter denies creating namespaces): unshares files, fs or semaphores"}

// families rates address families; rareFamily rates the ones not listed.
var families = map[string]rated{
	"AF_PACKET":    {8, "sniffs and injects raw frames on every interface of its network namespace"},
	"AF_XDP":       {6, "bypasses the network stack: raw access to interface queues"},
	"AF_BLUETOOTH": {5, "drives Bluetooth hardware, a stack with a history of remote and local bugs"},
	"AF_KEY":       {4, "manages IPsec keys and policies"},
	"AF_VSOCK":     {4, "talks to the hypervisor or the host over virtio sockets"},
	"AF_ALG":       {3, "the kernel crypto API over sockets, a recurring source of kernel bugs"},
	"AF_CAN":       {3, "talks on CAN buses"},
	"AF_INET":      {1, "reaches the network: can send data out or reach internal services"},
	"AF_INET6":     {1, "reaches the network: can send data out or reach internal services"},
	"AF_UNIX":      {0.5, "connects to Unix sockets by path (Docker, D-Bus, databases) where permissions allow"},
	"AF_UNSPEC":    {0, ""},
}

var rareFamily = rated{3, "a rarely used protocol, loaded on first use, with a history of kernel exploits"}

// netlinkProtocols rates AF_NETLINK by protocol: each is a different
// kernel subsystem. AF_NETLINK is not in families: a profile that lists
// protocols is rated by them, one without (any protocol) by anyNetlink.
// Names are checked against linux's netlink table in a test.
var netlinkProtocols = map[string]rated{
	"NETLINK_AUDIT":          {2, "reads and writes the audit trail (with CAP_AUDIT_*: hides what it does)"},
	"NETLINK_NETFILTER":      {2, "firewall rules and conntrack (nf_tables): a frequent source of kernel exploits"},
	"NETLINK_XFRM":           {1.5, "IPsec policy and state: redirects or exposes other components' traffic"},
	"NETLINK_KOBJECT_UEVENT": {1, "device events: a path to udev-style attacks"},
	"NETLINK_CONNECTOR":      {1, "proc connector: watches every process start on the host"},
	"NETLINK_GENERIC":        {1, "a large surface behind one protocol: nl80211, taskstats, wireguard and more"},
	"NETLINK_SOCK_DIAG":      {0.5, "enumerates every socket of its network namespace, other components' included"},
	"NETLINK_CRYPTO":         {0.5, "reads and changes the kernel's crypto configuration"},
	"NETLINK_ROUTE":          {0.25, "reads routes, addresses and links; changing them needs CAP_NET_ADMIN"},
}

// rareNetlink rates a netlink protocol not in netlinkProtocols.
var rareNetlink = rated{0.1, "a rarely used netlink protocol (most are gone from current kernels or loaded on first use)"}

// anyNetlink rates AF_NETLINK without protocols: every protocol is
// allowed, so it weighs all of them together (listing protocols can only
// lower the score, and listing them all gives the same).
var anyNetlink = rated{netlinkTotal(), "any netlink protocol (none listed; learned before leash recorded them): audit, netfilter, xfrm, uevents and every other subsystem; learn again to list them"}

// rawSocket rates SOCK_RAW (and SOCK_PACKET) on AF_INET/AF_INET6.
var rawSocket = rated{6, "crafts arbitrary IP packets (spoofing, scanning) and reads raw traffic"}

// isolatedInet rates AF_INET/AF_INET6 inside a network namespace of its own.
var isolatedInet = rated{0.25, "inet sockets, but in a network namespace of its own: only its own loopback"}

// runNamespace rates a namespace missing from run.namespaces.
type runNamespace struct {
	name string
	rated
	ok string // why it helps, for the ok line
}

var runNamespaces = []runNamespace{
	{"net", rated{3, "needs no AF_INET/AF_INET6 socket, yet shares the host's network: a net namespace would cut it off"},
		"its own network namespace: no route to the host's network"},
	{"pid", rated{2, "sees every process on the host and can signal those of its user"},
		"its own pid namespace: sees only its own processes"},
	{"mnt", rated{2, "shares the host's mount namespace and sees every mount"},
		"its own mount namespace"},
	{"ipc", rated{1, "shares System V IPC and POSIX message queues with the host"},
		"its own IPC namespace"},
	{"uts", rated{0.5, "shares the host name and domain name"},
		"its own UTS namespace"},
}

// netWithInet replaces the net entry's why when the component uses inet
// sockets: the namespace cannot be added, but the exposure remains.
const netWithInet = "shares the host's network namespace (it uses AF_INET/AF_INET6): limit its traffic with a firewall"

// createNamespaces rates the namespaces the component may create.
var createNamespaces = map[string]rated{
	"user":   {8, "may create user namespaces: every capability inside one, the usual first step of kernel exploits"},
	"net":    {3, "may create network namespaces (netfilter and other network code becomes reachable)"},
	"mnt":    {3, "may create mount namespaces"},
	"cgroup": {2, "may create cgroup namespaces"},
	"pid":    {1, "may create pid namespaces"},
	"ipc":    {1, "may create IPC namespaces"},
	"uts":    {1, "may create UTS namespaces"},
	"time":   {1, "may create time namespaces"},
}

var unratedNamespace = rated{2, "may create a namespace leash does not rate"}

// Run options.
var (
	rootUser      = rated{10, "uid 0 owns most of the system: even without capabilities it rewrites root-owned files such as /etc/passwd"}
	rootGroup     = rated{2, "gid 0 reads and writes the files of group root"}
	logAction     = rated{20, "nothing is enforced: syscalls outside the profile are only logged, every one below is allowed"}
	i386ABI       = rated{4, "the i386 compat ABI is allowed: a second, less exercised syscall entry path"}
	noProtectSys  = rated{3, "can write /usr, /boot and /etc wherever file permissions allow"}
	fullProtect   = rated{1, "/usr and /boot are read-only, but /etc stays writable where permissions allow"}
	noProtectHome = rated{2, "reads /home, /root and /run/user wherever file permissions allow"}
	noPrivateTmp  = rated{1.5, "shares /tmp with every other program: symlink races and leftover secrets"}
	hostDevices   = rated{3, "the host's /dev: as uid 0, or with CAP_DAC_OVERRIDE, it opens the raw disks and rewrites any file on them"}
	rwTunables    = rated{3, "writable /proc/sys and /sys: as uid 0, without any capability, kernel.core_pattern alone runs a program of its choice as root on the host"}
	protectNoPID  = rated{1, "without a pid namespace the host's /proc/PID/root of any process the component may ptrace-read (one of its own uid) shows the file system these options hide"}
	keepEnv       = rated{0.5, "inherits the environment of whoever starts it, which may hold credentials"}
)
