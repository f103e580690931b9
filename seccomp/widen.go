package seccomp

import (
	"fmt"
	"sort"
)

// A Widening is a named, opt-in set of syscalls a profile may add to what
// was learned (profile field widen). Short training runs miss syscalls a
// runtime makes only sometimes, or that another libc version makes
// instead; a widening adds them with a reason a reviewer can read in
// `leash filter --explain` and in the disassembly. Nothing is ever widened
// unless the profile names the widening.
type Widening struct {
	Name    string
	Summary string
	Groups  []WidenGroup
}

// A WidenGroup is a set of syscalls added together, for one reason.
type WidenGroup struct {
	Syscalls []string
	Reason   string
	// Siblings: the group is added to an ABI only if the profile learned at
	// least one of its syscalls there (libc picked one of them, another
	// version may pick another). Otherwise it is always added.
	Siblings bool
}

// Names missing from an ABI's table (open on arm64, mmap2 on x86_64) are
// skipped for that ABI.
var widenings = []Widening{
	{
		Name: "go-runtime",
		Summary: "syscalls the Go runtime (Go 1.26 source: runtime/sys_linux_*.s, " +
			"internal/runtime/syscall/linux) makes only at some times: signal-based " +
			"preemption, the scavenger, new threads, the network poller, profiling",
		Groups: []WidenGroup{
			{Syscalls: []string{"futex", "sched_yield", "nanosleep", "clock_nanosleep"},
				Reason: "Go runtime: thread parking, spinning and sleeping (futexsleep, osyield, usleep)"},
			{Syscalls: []string{"tgkill", "getpid", "gettid", "kill", "rt_sigreturn", "rt_sigaction", "rt_sigprocmask", "sigaltstack"},
				Reason: "Go runtime: asynchronous preemption sends SIGURG with tgkill; signal handling on new threads"},
			{Syscalls: []string{"mmap", "mmap2", "munmap", "madvise", "mincore", "mprotect", "brk"},
				Reason: "Go runtime: heap growth and the background scavenger (madvise after a GC)"},
			{Syscalls: []string{"clone", "exit", "exit_group", "sched_getaffinity", "arch_prctl", "set_thread_area"},
				Reason: "Go runtime: starting and ending OS threads (newosproc uses clone, never clone3)"},
			{Syscalls: []string{"epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2", "eventfd2", "pipe2", "fcntl", "fcntl64"},
				Reason: "Go runtime: the network poller (epoll_pwait2 is defined in internal/runtime/syscall for newer runtimes)"},
			{Syscalls: []string{"setitimer", "timer_create", "timer_settime", "timer_delete"},
				Reason: "Go runtime: CPU profiling timers (runtime/pprof)"},
			{Syscalls: []string{"clock_gettime", "clock_gettime64", "gettimeofday", "getrandom"},
				Reason: "Go runtime: vDSO fallbacks for time and randomness"},
			{Syscalls: []string{"read", "write", "openat", "close", "faccessat"},
				Reason: "Go runtime: reading /sys/kernel/mm/transparent_hugepage and writing crash output"},
		},
	},
	{
		Name: "glibc-portability",
		Summary: "when the profile learned one syscall of a family that glibc versions " +
			"(or 32- and 64-bit builds) implement differently, add its siblings",
		Groups: []WidenGroup{
			{Syscalls: []string{"stat", "lstat", "fstat", "newfstatat", "statx", "stat64", "lstat64", "fstat64", "fstatat64"}, Siblings: true,
				Reason: "glibc: stat family (2.33 implements stat via fstatat; 32-bit builds use statx for 64-bit time)"},
			{Syscalls: []string{"open", "openat", "openat2", "creat"}, Siblings: true,
				Reason: "glibc: open is openat since 2.26"},
			{Syscalls: []string{"access", "faccessat", "faccessat2"}, Siblings: true,
				Reason: "glibc: access and faccessat use faccessat2 since 2.33"},
			{Syscalls: []string{"wait4", "waitid", "waitpid"}, Siblings: true,
				Reason: "glibc: waitpid is wait4; waitid on some paths"},
			{Syscalls: []string{"dup2", "dup3"}, Siblings: true,
				Reason: "glibc: dup2 is dup3 on architectures without dup2"},
			{Syscalls: []string{"pipe", "pipe2"}, Siblings: true,
				Reason: "glibc: pipe is pipe2 on newer ports"},
			{Syscalls: []string{"poll", "ppoll", "ppoll_time64"}, Siblings: true,
				Reason: "glibc: poll is ppoll on newer ports (ppoll_time64 for 64-bit time on i386)"},
			{Syscalls: []string{"select", "_newselect", "pselect6", "pselect6_time64"}, Siblings: true,
				Reason: "glibc: select is pselect6 on newer ports (pselect6_time64 for 64-bit time on i386)"},
			{Syscalls: []string{"epoll_wait", "epoll_pwait", "epoll_pwait2"}, Siblings: true,
				Reason: "glibc: epoll_wait is epoll_pwait on newer ports"},
			{Syscalls: []string{"epoll_create", "epoll_create1"}, Siblings: true,
				Reason: "glibc: epoll_create is epoll_create1 on newer ports"},
			{Syscalls: []string{"nanosleep", "clock_nanosleep", "clock_nanosleep_time64"}, Siblings: true,
				Reason: "glibc: nanosleep is clock_nanosleep since 2.31"},
			{Syscalls: []string{"clock_gettime", "clock_gettime64", "gettimeofday", "time"}, Siblings: true,
				Reason: "glibc: vDSO time calls fall back to the syscall when the vDSO is unavailable"},
			{Syscalls: []string{"getdents", "getdents64"}, Siblings: true,
				Reason: "glibc: readdir uses getdents64"},
			{Syscalls: []string{"readlink", "readlinkat"}, Siblings: true,
				Reason: "glibc: readlink is readlinkat on newer ports"},
			{Syscalls: []string{"unlink", "unlinkat", "rmdir"}, Siblings: true,
				Reason: "glibc: unlink and rmdir are unlinkat on newer ports"},
			{Syscalls: []string{"rename", "renameat", "renameat2"}, Siblings: true,
				Reason: "glibc: rename is renameat or renameat2 on newer ports"},
			{Syscalls: []string{"mkdir", "mkdirat"}, Siblings: true,
				Reason: "glibc: mkdir is mkdirat on newer ports"},
			{Syscalls: []string{"chmod", "fchmodat", "fchmodat2"}, Siblings: true,
				Reason: "glibc: chmod is fchmodat; fchmodat with flags is fchmodat2 since 2.39"},
			{Syscalls: []string{"chown", "lchown", "fchownat", "chown32", "lchown32"}, Siblings: true,
				Reason: "glibc: chown and lchown are fchownat on newer ports (chown32 on i386)"},
			{Syscalls: []string{"link", "linkat"}, Siblings: true,
				Reason: "glibc: link is linkat on newer ports"},
			{Syscalls: []string{"symlink", "symlinkat"}, Siblings: true,
				Reason: "glibc: symlink is symlinkat on newer ports"},
			{Syscalls: []string{"utime", "utimes", "futimesat", "utimensat", "utimensat_time64"}, Siblings: true,
				Reason: "glibc: utime and utimes are utimensat (utimensat_time64 for 64-bit time on i386)"},
			{Syscalls: []string{"getrlimit", "ugetrlimit", "prlimit64"}, Siblings: true,
				Reason: "glibc: getrlimit is prlimit64 (ugetrlimit on i386)"},
			{Syscalls: []string{"setrlimit", "prlimit64"}, Siblings: true,
				Reason: "glibc: setrlimit is prlimit64"},
			{Syscalls: []string{"mmap", "mmap2"}, Siblings: true,
				Reason: "glibc: 32-bit mmap is mmap2"},
			{Syscalls: []string{"fcntl", "fcntl64"}, Siblings: true,
				Reason: "glibc: 32-bit fcntl is fcntl64"},
			{Syscalls: []string{"lseek", "_llseek"}, Siblings: true,
				Reason: "glibc: 32-bit lseek is _llseek"},
			{Syscalls: []string{"signalfd", "signalfd4"}, Siblings: true,
				Reason: "glibc: signalfd is signalfd4"},
			{Syscalls: []string{"eventfd", "eventfd2"}, Siblings: true,
				Reason: "glibc: eventfd is eventfd2"},
			{Syscalls: []string{"inotify_init", "inotify_init1"}, Siblings: true,
				Reason: "glibc: inotify_init is inotify_init1 on newer ports"},
			{Syscalls: []string{"accept", "accept4"}, Siblings: true,
				Reason: "glibc: accept is accept4 on some ports"},
			{Syscalls: []string{"close", "close_range"}, Siblings: true,
				Reason: "glibc: closefrom uses close_range since 2.34"},
		},
	},
}

// leash-spawn is the widening leash up gives a component that spawns
// another ($LEASH_SPAWN_<NAME>): the spawned component is started by a
// nested leash run, inside the spawner's confinement, which holds it to
// its own profile; the spawner's filter must let that leash run work. It
// is the Go runtime's syscalls (those of go-runtime) and those of the
// launch itself, found by tracing leash run as root and as another user.
// Under no_new_privs none of them raises a privilege: seccomp and prctl
// can only add filters and drop capabilities there, capset only lower the
// sets, setres[ug]id and setgroups need capabilities the spawner's own
// profile grants or not.
func init() {
	var groups []WidenGroup
	for _, w := range widenings {
		if w.Name != "go-runtime" {
			continue
		}
		for _, g := range w.Groups {
			g.Syscalls = append([]string(nil), g.Syscalls...)
			g.Reason = "leash run for a spawned component: " + g.Reason
			groups = append(groups, g)
		}
	}
	groups = append(groups,
		WidenGroup{Syscalls: []string{"execve", "prctl", "seccomp", "capget", "capset", "setsid", "setpgid", "close_range", "clone", "wait4", "waitid", "pipe2"},
			Reason: "leash run for a spawned component: no_new_privs, the capability sets, its filter, a new session, closing descriptors, then vfork and execve of the component"},
		WidenGroup{Syscalls: []string{"getuid", "geteuid", "getgid", "getegid", "getgroups", "getpid", "prlimit64", "newfstatat", "fstat", "faccessat", "faccessat2", "access", "readlinkat", "getcwd", "openat", "read", "pread64", "lseek", "close", "write", "rseq", "set_robust_list", "set_tid_address", "brk", "arch_prctl"},
			Reason: "leash run for a spawned component: starting up, reading its profile, checking the component's executable and, as root, the kernel log"},
		WidenGroup{Syscalls: []string{"setgroups", "setresgid", "setresuid"},
			Reason: "leash run for a spawned component, as root: clearing supplementary groups and setting the ids the component runs with"},
	)
	widenings = append(widenings, Widening{
		Name: "leash-spawn",
		Summary: "what leash run needs to start a spawned component held to its own profile " +
			"from inside its spawner's confinement (leash up adds it to a spawner's filter)",
		Groups: groups,
	})
}

// Widenings returns the known widenings by name. The result is a copy.
func Widenings() map[string]Widening {
	out := map[string]Widening{}
	for _, w := range widenings {
		gs := make([]WidenGroup, len(w.Groups))
		for i, g := range w.Groups {
			g.Syscalls = append([]string(nil), g.Syscalls...)
			gs[i] = g
		}
		w.Groups = gs
		out[w.Name] = w
	}
	return out
}

// WideningNames returns the names of the known widenings, sorted.
func WideningNames() []string {
	var out []string
	for _, w := range widenings {
		out = append(out, w.Name)
	}
	sort.Strings(out)
	return out
}

func lookupWidening(name string) (Widening, error) {
	for _, w := range widenings {
		if w.Name == name {
			return w, nil
		}
	}
	return Widening{}, fmt.Errorf("unknown widening %q (known: %v)", name, WideningNames())
}
