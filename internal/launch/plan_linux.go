package launch

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/profiles"
	"github.com/leash-project/leash/seccomp"
)

// A plan is every syscall the child and the target will make, with every
// argument built in advance by the launcher: the child is a fork of the
// launcher's Go process that runs only go:nosplit code with raw syscalls
// (see child_linux.go), so it can neither allocate nor decide much.

// opKind is what an op does beyond a plain syscall.
type opKind int

const (
	opSyscall  opKind = iota // nr(args); fails unless the result is >= 0 or errno is ok
	opLoopback               // bring lo up: socket, SIOCGIFFLAGS, SIOCSIFFLAGS, close
	opAudit                  // write loginuid, read sessionid, report it
	opChdir                  // chdir(args[0]), else chdir(args[1])
	opAlive                  // write tagAlive to the report pipe; exit if leash is gone (EPIPE)
	opOpenTTY                // open_tree(args[0], clone) into ttyTree; best effort
	opMoveTTY                // move ttyTree onto a new file args[0]; best effort
)

// op is one step.
type op struct {
	kind opKind
	nr   uintptr
	args [6]uintptr
	ok   syscall.Errno // an errno that is not a failure (0: none)
	idx  uint32        // index of the description, for error reports
}

// plan is the child's program.
type plan struct {
	setup []op // in the child: session, audit, mounts, network, descriptors
	pgrp  []op // in the target's process: its own process group
	chdir []op // in the target's process, after creds: the working directory in the new mount tree
	creds []op // in the target's process, and then in the init's: capabilities, ids, no_new_privs
	what  []string

	pidns      bool
	newSession bool // the child starts a session (and a process group) of its own
	repfd      uintptr
	forkIdx    uint32 // description of the init's fork of the target

	// canExec: the target checks path as its own uid before the filter,
	// and that it is still the file whose digest was checked (exe).
	stat     unix.Stat_t
	exe      FileID
	exeCheck bool

	// opLoopback
	ifr [40]byte // struct ifreq {"lo", flags}
	// opAudit
	loginuidPath, sessionidPath *byte
	loginuid                    []byte
	session                     [24]byte

	// init (PID namespace)
	waitSet uint64 // signals init waits for: forwarded ones and SIGCHLD
	siginfo [128]byte
	status  int32

	tail tailArgs

	// The init's own filter (PID namespace), installed once it holds the
	// target's credentials: initFilter's syscalls and nothing else.
	initProg sockFprog
	initIdx  uint32
	initOnly []op // in the init, after creds: non-dumpable, the gate pipe
	gate     [2]int32
	gateBuf  [1]byte
	aliveBuf [1]byte
	ttyTree  uintptr // opOpenTTY's descriptor, 0 for none

	// keep alive what the raw pointers above point into
	keep []any
}

func (pl *plan) describe(what string) uint32 {
	pl.what = append(pl.what, what)
	return uint32(len(pl.what) - 1)
}

// sys appends a raw syscall op to list.
func (pl *plan) sys(list *[]op, what string, ok syscall.Errno, nr uintptr, args ...uintptr) {
	o := op{kind: opSyscall, nr: nr, ok: ok, idx: pl.describe(what)}
	copy(o.args[:], args)
	*list = append(*list, o)
}

// cstr returns a NUL-terminated copy of s, kept alive by the plan.
func (pl *plan) cstr(s string) uintptr {
	p, err := syscall.BytePtrFromString(s)
	if err != nil {
		panic(err) // paths come from the spec, checked for NUL already
	}
	pl.keep = append(pl.keep, p)
	return uintptr(unsafe.Pointer(p))
}

func (pl *plan) ptr(v any, p unsafe.Pointer) uintptr {
	pl.keep = append(pl.keep, v)
	return uintptr(p)
}

// newPlan turns a spec into the child's program; repfd is the report pipe.
func newPlan(s *Spec, readfd, repfd int, newSession bool) (*plan, error) {
	for _, str := range append(append([]string{s.Path}, s.Argv...), s.Env...) {
		if strings.IndexByte(str, 0) >= 0 {
			return nil, fmt.Errorf("exec %s: argument or environment with a NUL byte", s.Path)
		}
	}
	pl := &plan{pidns: s.HasNamespace("pid"), newSession: newSession, repfd: uintptr(repfd)}
	pl.forkIdx = pl.describe("fork the target in the PID namespace")

	// Step 4 part: the session first (before anything can fail in a way
	// that depends on it), and the child dies with the launcher.
	// The child's copy of the report pipe's read end goes first: with it
	// gone, a write to the pipe fails (EPIPE) once leash has died.
	pl.sys(&pl.setup, "close the report pipe's read end", 0, unix.SYS_CLOSE, uintptr(readfd))
	if newSession {
		pl.sys(&pl.setup, "start a new session", 0, unix.SYS_SETSID)
	}
	pl.sys(&pl.setup, "set the parent-death signal", 0, unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL))
	// If leash died before that, the signal never comes: nothing may
	// run unsupervised.
	pl.setup = append(pl.setup, op{kind: opAlive, idx: pl.describe("check that leash still runs")})

	// Step 1: audit session.
	if s.AuditSession {
		b, err := os.ReadFile("/proc/thread-self/loginuid")
		if err == nil {
			uid := strings.TrimSpace(string(b))
			if uid == "4294967295" {
				uid = strconv.Itoa(os.Getuid())
			}
			pl.loginuid = []byte(uid)
			p1, _ := syscall.BytePtrFromString("/proc/thread-self/loginuid")
			p2, _ := syscall.BytePtrFromString("/proc/thread-self/sessionid")
			pl.loginuidPath, pl.sessionidPath = p1, p2
			pl.setup = append(pl.setup, op{kind: opAudit, idx: pl.describe("start an audit session")})
		}
	}

	// Step 2: mounts.
	if s.HasNamespace("mnt") {
		if err := pl.mounts(s); err != nil {
			return nil, err
		}
	}
	// Step 3: loopback.
	if s.HasNamespace("net") {
		copy(pl.ifr[:], "lo")
		pl.setup = append(pl.setup, op{kind: opLoopback, idx: pl.describe("bring up lo")})
	}
	// Step 4: descriptors.
	keep := append([]int(nil), s.KeepFDs...)
	sort.Ints(keep)
	lo := 3
	for _, k := range keep {
		if k < lo {
			continue
		}
		if k > lo {
			pl.sys(&pl.setup, "mark descriptors close-on-exec", 0, unix.SYS_CLOSE_RANGE, uintptr(lo), uintptr(k-1), unix.CLOSE_RANGE_CLOEXEC)
		}
		pl.sys(&pl.setup, fmt.Sprintf("keep descriptor %d", k), 0, unix.SYS_FCNTL, uintptr(k), unix.F_SETFD, 0)
		lo = k + 1
	}
	pl.sys(&pl.setup, "mark descriptors close-on-exec", 0, unix.SYS_CLOSE_RANGE, uintptr(lo), uintptr(^uint32(0)), unix.CLOSE_RANGE_CLOEXEC)

	// Step 5: with a PID namespace the init leads the session; the target
	// gets a process group of its own, which the init forwards signals
	// to (initLoop), so that they reach its children as well. First, while
	// the target still has the init's ids.
	if pl.pidns && newSession {
		pl.sys(&pl.pgrp, "start a process group for the target", 0, unix.SYS_SETPGID, 0, 0)
	}
	// Then capabilities and ids, in the target's own process.
	if err := pl.privileges(s); err != nil {
		return nil, err
	}

	for _, sig := range Forwarded {
		pl.waitSet |= 1 << (uint(sig.(syscall.Signal)) - 1)
	}
	pl.waitSet |= 1 << (uint(syscall.SIGCHLD) - 1)

	if err := pl.tailArgs(s); err != nil {
		return nil, err
	}
	if s.Exe != nil {
		pl.exe, pl.exeCheck = *s.Exe, true
	}
	if pl.pidns {
		prog, err := initFilter()
		if err != nil {
			return nil, err
		}
		pl.keep = append(pl.keep, prog)
		pl.initProg = sockFprog{len: uint16(len(prog) / 8), filter: unsafe.Pointer(&prog[0])}
		pl.initIdx = pl.describe("install the init's own filter")
		pl.sys(&pl.initOnly, "make the init non-dumpable", 0, unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, 0)
		pl.sys(&pl.initOnly, "create the pipe that holds the target until the init is confined", 0, unix.SYS_PIPE2, uintptr(unsafe.Pointer(&pl.gate[0])), unix.O_CLOEXEC)
	}
	return pl, nil
}

// mounts is step 2 (see the package documentation).
func (pl *plan) mounts(s *Spec) error {
	mount := func(what, src, target, fstype string, flags uintptr, data string) {
		var d uintptr
		if data != "" {
			d = pl.cstr(data)
		}
		var srcp, fsp uintptr
		if src != "" {
			srcp = pl.cstr(src)
		}
		if fstype != "" {
			fsp = pl.cstr(fstype)
		}
		pl.sys(&pl.setup, what, 0, unix.SYS_MOUNT, srcp, pl.cstr(target), fsp, flags, d)
	}
	rdonly := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	rdonlyPtr := pl.ptr(rdonly, unsafe.Pointer(rdonly))
	setattr := func(what, path string, flags uintptr, ok syscall.Errno) {
		pl.sys(&pl.setup, what, ok, unix.SYS_MOUNT_SETATTR, atFDCWD(), pl.cstr(path), flags, rdonlyPtr, unsafe.Sizeof(*rdonly))
	}
	// The mount table, read once and only when an option needs it.
	var table []mountEntry
	mounted := func() ([]mountEntry, error) {
		if table != nil {
			return table, nil
		}
		var err error
		table, err = mountTable()
		return table, err
	}
	mount("make / private", "", "/", "", unix.MS_REC|unix.MS_PRIVATE, "")
	if s.HasNamespace("pid") {
		mount("mount /proc for the PID namespace", "proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	}
	switch s.ProtectSystem {
	case "full":
		for _, p := range []string{"/usr", "/boot", "/efi", "/etc"} {
			if _, err := os.Stat(p); err != nil {
				continue
			}
			mount("protect system: bind "+p, p, p, "", unix.MS_BIND|unix.MS_REC, "")
			setattr("protect system: make "+p+" read-only", p, unix.AT_RECURSIVE, 0)
		}
	case "strict":
		// Every mount read-only in one call on the whole tree: a mount
		// made after leash read the mount table is covered too, and no
		// mount point's path is looked up (a user who can rename a
		// parent of one could send a per-path change elsewhere). Then
		// the API file systems that were writable are made so again.
		table, err := mounted()
		if err != nil {
			return fmt.Errorf("protect system: %w", err)
		}
		api := apiMounts(table)
		setattr("protect system: make every mount read-only", "/", unix.AT_RECURSIVE, 0)
		rw := &unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY}
		rwPtr := pl.ptr(rw, unsafe.Pointer(rw))
		for _, mp := range api {
			if s.HasNamespace("pid") && strings.HasPrefix(mp, "/proc/") {
				continue // under the PID namespace's new /proc, not there
			}
			// A mount hidden under another answers for the top one.
			pl.sys(&pl.setup, "protect system: keep "+mp+" writable", syscall.ENOENT, unix.SYS_MOUNT_SETATTR, atFDCWD(), pl.cstr(mp), unix.AT_SYMLINK_NOFOLLOW, rwPtr, unsafe.Sizeof(*rw))
		}
	}
	if s.ProtectHome {
		for _, p := range []string{"/home", "/root", "/run/user"} {
			if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
				continue
			}
			mount("protect home: mount tmpfs on "+p, "tmpfs", p, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755")
		}
	}
	if s.PrivateTmp {
		for _, p := range []string{"/tmp", "/var/tmp"} {
			if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
				continue
			}
			mount("private tmp: mount tmpfs on "+p, "tmpfs", p, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777")
		}
	}
	if s.PrivateDevices {
		pl.privateDevices(mount, setattr)
	}
	if s.ProtectKernelTunables {
		// As systemd's ProtectKernelTunables= (and runc's read-only
		// paths): read-only binds of themselves. Under a PID namespace
		// these are the paths of its new /proc, mounted above.
		for _, p := range kernelTunables {
			if _, err := os.Lstat(p); err != nil {
				continue
			}
			mount("protect kernel tunables: bind "+p, p, p, "", unix.MS_BIND|unix.MS_REC, "")
			setattr("protect kernel tunables: make "+p+" read-only", p, unix.AT_RECURSIVE, 0)
		}
		// BPF_OBJ_GET opens a pinned map or program by the file's
		// permission, not the mount's: a uid 0 target would update the
		// host's pinned maps through a read-only mount. Cover every bpf
		// file system (/sys/fs/bpf, Cilium's /run/cilium/bpffs, ...).
		table, err := mounted()
		if err != nil {
			return err
		}
		bpffs := mountsOfType(table, "bpf")
		for _, mp := range bpffs {
			if s.HasNamespace("pid") && (mp == "/proc" || strings.HasPrefix(mp, "/proc/")) {
				continue
			}
			mount("protect kernel tunables: hide the bpf file system at "+mp, "tmpfs", mp, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755")
		}
	}
	// The working directory again, looked up in the new mount tree: the
	// one leash had still points into the host's (a /root or /tmp that
	// protectHome or privateTmp hide, a /proc/sys made read-only since).
	// Where it is hidden now, or the target may not enter it, /. The
	// target does it with its own credentials (targetMain).
	cwd, err := os.Getwd()
	if err != nil {
		cwd = "/"
	}
	pl.chdir = append(pl.chdir, op{kind: opChdir, args: [6]uintptr{pl.cstr(cwd), pl.cstr("/")}, idx: pl.describe("change to the working directory in the new mount namespace")})
	return nil
}

// kernelTunables are the paths ProtectKernelTunables makes read-only. A
// uid 0 component without capabilities can write most of them:
// kernel.core_pattern alone runs a program of its choice as root in the
// host's namespaces.
var kernelTunables = []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", "/proc/acpi", "/proc/latency_stats", "/proc/timer_stats", "/sys"}

// pseudoDevices are the device nodes of a private /dev, as systemd's
// PrivateDevices= makes it.
var pseudoDevices = []struct {
	name         string
	major, minor uint32
}{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}}

// privateDevices replaces /dev with a tmpfs holding only the pseudo
// devices, a pty instance of its own, /dev/shm, and the usual symbolic
// links, then makes it read-only (but for /dev/shm and /dev/pts). No raw
// disk, no /dev/mem, no /dev/kmsg: a uid 0 component owns those nodes
// without any capability.
func (pl *plan) privateDevices(mount func(what, src, target, fstype string, flags uintptr, data string), setattr func(what, path string, flags uintptr, ok syscall.Errno)) {
	// The terminal leash runs on, if any of 0-2 is one: its node is in
	// the host's devpts, about to be hidden, and ttyname(3) would fail
	// ("not a tty"). A detached bind of it (open_tree) is moved onto
	// /dev/console below, where glibc finds it by its inode. It is the
	// terminal the target holds already. Best effort.
	tty := -1
	for fd := 0; fd <= 2 && tty < 0; fd++ {
		if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
			continue
		}
		if p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err == nil && strings.HasPrefix(p, "/dev/") {
			tty = fd
			pl.setup = append(pl.setup, op{kind: opOpenTTY, args: [6]uintptr{pl.cstr(p)}, idx: pl.describe("private devices: hold the terminal " + p)})
		}
	}
	mount("private devices: mount tmpfs on /dev", "tmpfs", "/dev", "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755")
	for _, d := range pseudoDevices {
		p := "/dev/" + d.name
		pl.sys(&pl.setup, "private devices: create "+p, 0, unix.SYS_MKNODAT, atFDCWD(), pl.cstr(p), unix.S_IFCHR|0o666, uintptr(unix.Mkdev(d.major, d.minor)))
		pl.sys(&pl.setup, "private devices: chmod 0666 "+p, 0, unix.SYS_FCHMODAT, atFDCWD(), pl.cstr(p), 0o666)
	}
	pl.sys(&pl.setup, "private devices: create /dev/pts", 0, unix.SYS_MKDIRAT, atFDCWD(), pl.cstr("/dev/pts"), 0o755)
	ptsOpts := "newinstance,ptmxmode=0666,mode=0620"
	if gid, err := lookupGroup("tty"); err == nil {
		ptsOpts += ",gid=" + strconv.Itoa(gid)
	}
	mount("private devices: mount a devpts instance on /dev/pts", "devpts", "/dev/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, ptsOpts)
	pl.sys(&pl.setup, "private devices: create /dev/shm", 0, unix.SYS_MKDIRAT, atFDCWD(), pl.cstr("/dev/shm"), 0o755)
	mount("private devices: mount tmpfs on /dev/shm", "tmpfs", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777")
	links := [][2]string{{"pts/ptmx", "/dev/ptmx"}, {"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}}
	// The syslog socket, where the host has it as a link (to journald's).
	if target, err := os.Readlink("/dev/log"); err == nil {
		links = append(links, [2]string{target, "/dev/log"})
	}
	for _, l := range links {
		pl.sys(&pl.setup, "private devices: link "+l[1]+" to "+l[0], 0, unix.SYS_SYMLINKAT, pl.cstr(l[0]), atFDCWD(), pl.cstr(l[1]))
	}
	if tty >= 0 {
		pl.setup = append(pl.setup, op{kind: opMoveTTY, args: [6]uintptr{pl.cstr("/dev/console")}, idx: pl.describe("private devices: the terminal as /dev/console")})
	}
	setattr("private devices: make /dev read-only", "/dev", 0, 0)
}

// mountEntry is one line of /proc/self/mountinfo: where, whether the
// mount is writable, and the file system's type.
type mountEntry struct {
	point    string
	writable bool
	fstype   string
}

// mountTable reads /proc/self/mountinfo, in mount order.
func mountTable() ([]mountEntry, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	defer f.Close()
	var out []mountEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		_, after, ok := strings.Cut(sc.Text(), " - ")
		if !ok || len(fields) < 6 {
			continue
		}
		opts, _, _ := strings.Cut(fields[5], ",")
		fstype, _, _ := strings.Cut(after, " ")
		out = append(out, mountEntry{point: unescapeMount(fields[4]), writable: opts == "rw", fstype: fstype})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return out, nil
}

// apiMounts lists the mount points of the API file systems (under /dev,
// /proc and /sys) that are writable in table, in mount order, each once:
// the ones ProtectSystem=strict leaves writable. When one path holds
// several mounts, the last (the top one) decides.
func apiMounts(table []mountEntry) []string {
	var order []string
	writable := map[string]bool{}
	for _, m := range table {
		if !apiFS(m.point) {
			continue
		}
		if _, seen := writable[m.point]; !seen {
			order = append(order, m.point)
		}
		writable[m.point] = m.writable
	}
	var out []string
	for _, mp := range order {
		if writable[mp] {
			out = append(out, mp)
		}
	}
	return out
}

// mountsOfType lists the mount points in table of file systems of type
// fstype, each once.
func mountsOfType(table []mountEntry, fstype string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range table {
		if m.fstype == fstype && !seen[m.point] {
			seen[m.point] = true
			out = append(out, m.point)
		}
	}
	return out
}

func apiFS(mp string) bool {
	for _, p := range []string{"/dev", "/proc", "/sys"} {
		if mp == p || strings.HasPrefix(mp, p+"/") {
			return true
		}
	}
	return false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// capLast is the highest capability this kernel knows.
func capLast() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return n
		}
	}
	return 40
}

// privileges is step 5.
func (pl *plan) privileges(s *Spec) error {
	last := capLast()
	keep := make([]bool, last+1)
	if s.FullCaps {
		// Complain mode keeps whatever leash itself was given.
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return fmt.Errorf("get capabilities: %w", err)
		}
		for c := 0; c <= last; c++ {
			keep[c] = data[c/32].Permitted&(1<<(c%32)) != 0
		}
	}
	for _, c := range s.Caps {
		if c <= last {
			keep[c] = true
		}
	}
	var mask [2]uint32
	for c := 0; c <= last; c++ {
		if keep[c] {
			mask[c/32] |= 1 << (c % 32)
		}
	}
	if os.Geteuid() == 0 {
		// The bounding set first: PR_CAPBSET_DROP needs CAP_SETPCAP, which
		// the uid switch takes away from a non-root target. Only what is
		// still in it: a leash run inside a confined root component (a
		// spawned component under leash up) has neither those capabilities
		// nor CAP_SETPCAP.
		for c := 0; c <= last; c++ {
			if !keep[c] && inBoundingSet(c) {
				pl.sys(&pl.creds, "drop "+capName(c)+" from the bounding set", 0, unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c))
			}
		}
		pl.sys(&pl.creds, "keep capabilities across setuid", 0, unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 1)
		// setgroups needs CAP_SETGID even to clear an empty list.
		if groups, err := unix.Getgroups(); err != nil || len(groups) > 0 {
			pl.sys(&pl.creds, "clear supplementary groups", 0, unix.SYS_SETGROUPS, 0, 0)
		}
		pl.sys(&pl.creds, fmt.Sprintf("setresgid %d", s.GID), 0, unix.SYS_SETRESGID, uintptr(s.GID), uintptr(s.GID), uintptr(s.GID))
		pl.sys(&pl.creds, fmt.Sprintf("setresuid %d", s.UID), 0, unix.SYS_SETRESUID, uintptr(s.UID), uintptr(s.UID), uintptr(s.UID))
	} else if s.UID != os.Getuid() || s.GID != os.Getgid() {
		// Without root leash can only confine the caller's own ids; the
		// bounding set stays (no_new_privs keeps exec from using it) and
		// groups stay (dropping them needs CAP_SETGID).
		return fmt.Errorf("switching to uid %d gid %d needs root", s.UID, s.GID)
	}
	hdr := &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := &[2]unix.CapUserData{}
	for i := range data {
		data[i] = unix.CapUserData{Effective: mask[i], Permitted: mask[i], Inheritable: mask[i]}
	}
	pl.sys(&pl.creds, "set capabilities", 0, unix.SYS_CAPSET, pl.ptr(hdr, unsafe.Pointer(hdr)), pl.ptr(data, unsafe.Pointer(&data[0])))
	pl.sys(&pl.creds, "clear ambient capabilities", 0, unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL)
	if s.UID != 0 {
		for c := 0; c <= last; c++ {
			if keep[c] {
				pl.sys(&pl.creds, "raise ambient "+capName(c), 0, unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c))
			}
		}
	}
	// Changing credentials cleared the parent-death signal (the kernel
	// does so whenever setresuid or capset change them): set it again,
	// or a non-root target (or init) outlives a killed leash.
	pl.sys(&pl.creds, "set the parent-death signal again", 0, unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL))
	// If leash died before that, the signal will never come; nothing may
	// go on (opAlive, as after the first one).
	pl.creds = append(pl.creds, op{kind: opAlive, idx: pl.describe("check that leash still runs")})
	pl.sys(&pl.creds, "set no_new_privs", 0, unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1)
	return nil
}

// tailArgs builds the raw arguments of the last steps.
func (pl *plan) tailArgs(s *Spec) error {
	path, err := syscall.BytePtrFromString(s.Path)
	if err != nil {
		return fmt.Errorf("exec %s: %w", s.Path, err)
	}
	argv, err := syscall.SlicePtrFromStrings(s.Argv)
	if err != nil {
		return fmt.Errorf("exec %s: arguments: %w", s.Path, err)
	}
	envv, err := syscall.SlicePtrFromStrings(s.Env)
	if err != nil {
		return fmt.Errorf("exec %s: environment: %w", s.Path, err)
	}
	pl.keep = append(pl.keep, path, argv, envv, s.Filter)
	t := &pl.tail
	t.path, t.argv, t.envv, t.errfd = path, &argv[0], &envv[0], pl.repfd
	t.flags = unix.SECCOMP_FILTER_FLAG_LOG
	if len(s.Filter) > 0 {
		if len(s.Filter)%8 != 0 || len(s.Filter)/8 > 4096 {
			return fmt.Errorf("install seccomp filter: bad program length %d bytes", len(s.Filter))
		}
		t.prog.len = uint16(len(s.Filter) / 8)
		t.prog.filter = unsafe.Pointer(&s.Filter[0])
	}
	return nil
}

// atFDCWD is AT_FDCWD as a raw syscall argument.
func atFDCWD() uintptr {
	fd := unix.AT_FDCWD
	return uintptr(fd)
}

// inBoundingSet reports whether capability c is in leash's bounding set,
// which the child inherits; true when that cannot be read, so that the
// drop is tried and its failure reported.
func inBoundingSet(c int) bool {
	in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
	return err != nil || in == 1
}

// InitSyscalls are all the init of a PID namespace calls once it is
// confined: close its descriptors, release the target (a byte on the
// gate pipe), wait for signals, pass them on, reap, exit. write reaches
// nothing once the gate is closed: the init has no other descriptor. Its
// filter (initFilter) allows these alone, and kills it on anything else,
// which kills the namespace with it.
var InitSyscalls = []string{"rt_sigtimedwait", "kill", "wait4", "close", "close_range", "write", "exit_group", "exit", "restart_syscall"}

// initFilter compiles the init's filter with leash's own compiler, once.
var initFilter = sync.OnceValues(func() ([]byte, error) {
	arch := HostArch()
	calls := map[string]string{}
	for _, c := range InitSyscalls {
		calls[c] = "leash (the init of the PID namespace)"
	}
	p := &profiles.Profile{
		APIVersion: profiles.APIVersion,
		Component:  "leash-init",
		Syscalls:   map[string]map[string]string{string(arch): calls},
		Run:        profiles.RunOptions{DefaultAction: "kill-process"},
	}
	f, err := seccomp.Compile(p, seccomp.Options{Arch: arch})
	if err != nil {
		return nil, fmt.Errorf("compile the init's filter: %w", err)
	}
	return f.Bytes()
})
