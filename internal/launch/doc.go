// Package launch holds leash's enforcer: it starts a command confined to a
// profile with the kernel's own primitives, and stays beside it as a
// minimal init when the command gets its own PID namespace.
//
// # Processes
//
// The launcher (leash run) loads the profile, compiles the seccomp filter,
// and turns everything the child will do into a plan: a list of raw
// syscalls with every argument built in advance (plan_linux.go). It then
// starts the child itself, from one locked OS thread with all signals
// blocked, with clone and the CLONE_NEW* flags of the profile's
// run.namespaces (pid, ipc, uts, mnt, net; never user: a user namespace
// would give the component a root of its own to attack with). The child
// runs only go:nosplit functions making raw syscalls (child_linux.go), as
// the Go runtime's own forkAndExecInChild does: no allocation, no
// scheduler, no second Go runtime to start. (Re-executing leash in a
// reexec role, as runc does, would cost the start-up of a large Go binary
// on every launch.) Without a PID namespace the target is a vfork
// (CLONE_VM|CLONE_VFORK) of the launcher, so the launcher's address space
// is not copied for it; with one, the init, which outlives the launch, is
// a plain fork with an address space of its own (see forkChild), and the
// target a plain fork of the init. Catching the forwarded
// signals starts first, in the background (CatchSignals); the goroutine
// that catches them also forwards them, so nothing is started or woken
// after the clone. The launcher forwards SIGINT, SIGTERM, SIGHUP,
// SIGQUIT, SIGUSR1 and SIGUSR2 to the child, waits for it, and exits
// with its status. In a new session (the default) the target leads a
// process group of its own and the signals go to the whole group, as a
// terminal's go to a whole job: a shell stopped by SIGTERM does not leave
// the command it waited for running. With --no-new-session they go to
// the target alone. The launcher waits for the child without reaping it
// (waitid WNOWAIT) and stops forwarding before it reaps it, so the pid
// and group id it signals cannot have been reused.
//
// Without a PID namespace the child execs the command itself: it becomes
// the target. With one, the child is pid 1 of the new namespace: it starts
// the target and stays as init, waiting with rt_sigtimedwait for SIGCHLD
// and the forwarded signals (kept blocked, so the kernel queues them for
// pid 1 although it has no handler): it forwards those to the target
// (to its process group: in a new session the target calls setpgid
// before its execve, since the init leads the session and its group),
// reaps every zombie re-parented to it, and exits with the target's
// status (128+N when signal N killed it). It runs no Go code and never
// execs. Before it starts the target it takes the target's credentials
// (the same ids, capability sets and no_new_privs: the credential steps
// of 5, which the target then skips) and becomes non-dumpable; the
// target, its fork, waits on a pipe until the init has installed a
// filter of its own, which allows only what it calls from then on
// (InitSyscalls) and kills it on anything else (which ends the
// namespace), and has closed every descriptor it had (leash's
// /dev/kmsg, the Go runtime's files, the report pipe). So a target that
// can take it over (ptrace of pid 1 needs CAP_SYS_PTRACE) finds nothing
// it does not hold already: not the init's former root, not a
// descriptor, not leash's memory. Both have PR_SET_PDEATHSIG SIGKILL,
// set again after the credential change (which clears it): if leash
// dies, init dies and the kernel kills the whole PID namespace. After
// each time it is set, the child writes a byte to the report pipe, whose
// read end only leash holds: EPIPE means leash died before the signal
// could be armed, and the child exits.
//
// # The order
//
//  0. In the child: a new session (setsid) unless --no-new-session, so
//     the target has no controlling terminal to inject input into with
//     TIOCSTI; PR_SET_PDEATHSIG.
//  1. Audit session: a new audit session id (writing
//     /proc/thread-self/loginuid), so the kernel's seccomp records of this
//     run and its descendants can be told from everyone else's.
//  2. Mount namespace (mnt): / made private recursively, so nothing leaks
//     back to the host. With a PID namespace, a new /proc for it. Then,
//     following systemd's semantics: ProtectSystem=full: /usr, /boot,
//     /efi and /etc read-only; ProtectSystem=strict: every mount
//     read-only except the API file systems under /dev, /proc and /sys
//     (one recursive mount_setattr on /, which also covers mounts made
//     after leash read the mount table, then the API mounts that were
//     writable made so again);
//     ProtectHome: /home, /root and /run/user replaced by empty read-only
//     tmpfs; PrivateTmp: fresh tmpfs (mode 1777) on /tmp and /var/tmp,
//     mounted last so they stay writable under strict. Read-only is a bind
//     mount of the path onto itself (full) and mount_setattr with
//     MOUNT_ATTR_RDONLY, which changes only the read-only bit and keeps
//     nosuid, nodev and noexec. These options imply a mount namespace even
//     when run.namespaces does not list mnt, and so does a PID namespace
//     (its /proc must be its own, or the target would see and open every
//     host process in the host's). Without a PID namespace the target can
//     still reach the host's file system through /proc/PID/root of a host
//     process it may ptrace-read (one of its own uid, or any with
//     CAP_SYS_PTRACE), as under systemd's ProtectSystem= without
//     PrivatePIDs=: list pid with these options, and give the component a
//     uid of its own.
//     PrivateDevices (on unless the profile says false, when leash runs
//     as root): /dev becomes a read-only tmpfs with null, zero, full,
//     random, urandom and tty, a devpts instance of its own, a /dev/shm
//     tmpfs, and the usual links (fd, stdin, stdout, stderr, ptmx, and
//     /dev/log where the host's is a link), and the terminal leash runs
//     on, if any, as /dev/console (a bind of its node, so that ttyname(3)
//     finds it). ProtectKernelTunables (the
//     same default): /proc/sys, /proc/sysrq-trigger, /proc/irq,
//     /proc/bus, /proc/fs, /proc/acpi and /sys become read-only binds of
//     themselves. Both matter most to a uid 0 component, which owns the
//     host's raw disks (/dev/vda) and writes kernel.core_pattern without
//     a single capability; both imply a mount namespace. Under
//     ProtectKernelTunables every bpf file system (/sys/fs/bpf, and any
//     other mount of type bpf) is also covered with an empty read-only
//     tmpfs: the bpf syscall opens pinned objects (BPF_OBJ_GET) by inode
//     permission, whatever the mount says. The target then changes, with
//     its own credentials, to its working directory looked up again in
//     the new tree (the one leash had still points into the host's: a
//     /root or /tmp hidden since); where it is hidden or closed to the
//     target, it starts in /.
//  3. Network namespace (net): loopback brought up (SIOCSIFFLAGS IFF_UP);
//     no other interface exists.
//  4. File descriptors: everything above 2 is marked close-on-exec
//     (close_range CLOSE_RANGE_CLOEXEC) but the --keep-fd ones, which keep
//     their numbers.
//  5. The credentials: in the target's process without a PID namespace;
//     with one, in the init, which then forks the target (see below). In
//     a new session the target first gets a process group of its own
//     (setpgid). The capability bounding set is reduced
//     to the needed set (PR_CAPBSET_DROP needs CAP_SETPCAP, so it comes
//     before the uid switch); PR_SET_KEEPCAPS; supplementary groups cleared;
//     setresgid; setresuid; capset of permitted, effective and inheritable
//     to the needed set; PR_CAP_AMBIENT_RAISE of each needed capability so
//     that a non-root target keeps them across execve; PR_SET_PDEATHSIG
//     again (the change cleared it); PR_SET_NO_NEW_PRIVS.
//  6. Signal dispositions reset to SIG_DFL and the signal mask restored:
//     no Go signal handler may run from here on.
//  7. The checks execve will make (the file exists, is a regular file, is
//     executable by the target's uid), while a failure can still be
//     reported; and when leash checked CMD's sha256 (Spec.Exe), that the
//     path still names the file it hashed (device, inode, size, ctime), so
//     a file renamed into place or rewritten after the check is refused
//     (exit 126). What is left is the time of the seccomp call between
//     this stat and execve: a loop exchanging CMD with another file as
//     fast as it could (renameat2 RENAME_EXCHANGE) got the other one run
//     in 85 of 300 launches before this check, and in none of 3000 with
//     it (10 refused); see TestRunRefusesReplacedExe. It does not hold a
//     writer of the file itself: pages dirtied through a shared writable
//     mapping are rewritten without a new ctime, so the file that runs can
//     differ from the one hashed; leash run warns when someone other than
//     root can write the executable. Nor are the #! interpreter, the
//     dynamic loader and shared libraries hashed, and LD_* variables pass
//     through unless run.clearEnv.
//  8. seccomp(SECCOMP_SET_MODE_FILTER), without TSYNC (the process has a
//     single thread), with SECCOMP_FILTER_FLAG_LOG so denials are logged.
//  9. execve, the only syscall made after the filter. No Go code runs in
//     the child, so no runtime thread or scheduler can call futex or
//     nanosleep under the filter: the profile needs nothing of the
//     launcher, and a profile learned from /bin/true launches /bin/true
//     every time under kill-process. If execve fails anyway, its errno
//     goes to the launcher through a close-on-exec pipe (write, then
//     exit_group); if the filter denies even that, the launcher sees the
//     target killed or exiting 127 without a reason.
//
// The target's environment is leash's, with run.env's variables replacing
// those of the same names; with run.clearEnv, run.env's alone. CMD is
// found with the target's PATH.
//
// Set-uid and file-capability programs behave as the kernel makes them
// under no_new_privs: a set-uid program runs with the caller's ids, and a
// program whose file capabilities have the effective bit, which the
// kernel cannot grant in full, is refused with EPERM; leash says why.
//
// Exit codes: the target's status; 126 when it could not be executed, 127
// when it was not found, 125 when the confinement could not be set up.
//
// # Denial reports
//
// The kernel logs seccomp actions as audit records (type=1326) to the
// kernel log when no audit daemon runs. The filter is installed with
// SECCOMP_FILTER_FLAG_LOG, so every action but allow is logged if
// /proc/sys/kernel/seccomp/actions_logged lists it (errno, kill_process
// and log by default on this kernel). The launcher reads /dev/kmsg (root
// only) from the moment it starts the child, and counts the records whose
// audit session id (ses=) is the child's. The kernel rate-limits these
// messages (printk_ratelimit), so counts are lower bounds; a note says so
// when leash cannot read the log at all. Capabilities and address
// families cannot be seen this way: complain mode says so.
package launch
