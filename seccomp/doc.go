// Package seccomp compiles a profile into a classic BPF seccomp filter: the
// architecture check, the x32 guard, a balanced search tree over syscall
// numbers per ABI, and argument rules (socket families, types and netlink
// protocols, namespace flags of clone/unshare/setns). It also holds the widenings (widen.go),
// named opt-in sets of syscalls a profile may add to what was learned, and
// a counting BPF interpreter (Emulate) for tests and bench/seccomp.
//
// It is pure Go and needs no kernel: Compile returns a Filter whose
// Assemble and Bytes give what SECCOMP_SET_MODE_FILTER and bubblewrap's
// --seccomp FD take; `leash run` installs it, `leash filter` prints it.
//
// # Layout of a filter
//
//	ld [4]                          seccomp_data.arch
//	jeq AUDIT_ARCH_X86_64 -> native
//	jeq AUDIT_ARCH_I386   -> i386 tree, or the ABI deny action
//	ret KILL_PROCESS                any other architecture
//	native: ld [0]                  seccomp_data.nr
//	jge 0x40000000 -> ret deny      the x32 guard (x86_64 only)
//	balanced tree of jge over the leaves of [0, 2^32)
//
// On an arm64 host (Options.Arch) there is one tree, for
// AUDIT_ARCH_AARCH64; its compat ABI (arm) is denied with the bad-arch
// action like any other architecture. An i386 tree exists only when the
// profile learned i386 syscalls; otherwise every i386 syscall (int $0x80,
// sysenter, or a 32-bit program) is denied.
//
// The leaves of a tree are the maximal ranges of numbers decided alike:
// allowed numbers next to each other are one leaf, and so are the denied
// gaps between them. A tree over n leaves runs at most ceil(log2 n)
// comparisons, so a syscall without an argument rule costs at most
// 5 + ceil(log2 n) instructions (arch load and compare, nr load, x32 guard
// or the i386 compare, the comparisons, a return): 13 for any 120-syscall
// policy (n <= 2*120+4), where libseccomp's binary tree
// (SCMP_FLTATR_CTL_OPTIMIZE=2) runs 15 to 19 (bench/seccomp measured 11
// against 15). The i386 tree comes after the native one, and when that is
// more than 255 instructions long, i386 syscalls run one more: the long
// jump to their tree. An argument rule adds its own few instructions at
// its leaf.
// Conditional jumps reach 255 instructions; farther targets get a long
// jump (ja) inserted after the comparison.
//
// A syscall whose decision needs no argument is decided by loads of nr and
// arch alone. The kernel emulates such filters once per syscall number
// (seccomp_cache_prepare_bitmap, Linux 5.11) and skips running them for
// numbers that always allow: nearly free. Only socket, socketpair, clone,
// unshare and setns load arguments, and only when the profile restricts
// them; nothing loads the instruction pointer. ConstAllow is a port of the
// kernel's test, and the tests hold every filter to it. What remains is the
// kernel's fixed cost of a task having any filter (the syscall entry slow
// path, the same for a one-instruction "ret ALLOW"): bench/seccomp measures
// it.
//
// The kernel never filters x86_64 uretprobe (335) and uprobe (336)
// (seccomp_uprobe_exception, Linux 6.11 and 6.16): whatever the filter
// says, they run, and outside a uprobe trampoline they raise SIGILL.
//
// # Decisions
//
//   - Learned syscalls are allowed; syscalls added by a widening are
//     allowed and marked name[widening] in the disassembly.
//   - restart_syscall is always allowed in every ABI that has a tree: the
//     kernel makes the task call it to resume an interrupted nanosleep,
//     poll or futex wait after a stop (SIGSTOP, the cgroup freezer, a
//     debugger) or a signal handler. Programs never call it themselves, a
//     training run that was never stopped never sees it, and it takes no
//     arguments: it only finishes a call the filter already allowed.
//     Docker's default profile and systemd's @default allow it too.
//   - Everything else in the table is answered with the default action:
//     Options.DefaultAction, else the profile's run.defaultAction, else
//     errno (SECCOMP_RET_ERRNO|EPERM); or kill-process
//     (SECCOMP_RET_KILL_PROCESS) or log (SECCOMP_RET_LOG, which lets the
//     syscall run).
//   - Numbers above the table (a newer kernel's syscalls) are answered
//     ENOSYS so libc falls back to an older call, as it would on an older
//     kernel.
//   - clone3 is always answered ENOSYS, learned or not: its flags live in
//     a struct in memory that a filter cannot read, so it cannot be held to
//     the namespace rule, and glibc (2.34+) falls back to clone when it
//     sees ENOSYS. An EPERM would make pthread_create fail instead. When
//     clone3 was learned, clone is allowed with the reason
//     "clone3 was learned" so the fallback works.
//   - x32 syscalls (x86_64 arch, nr >= __X32_SYSCALL_BIT) and the i386 ABI
//     of a profile without i386 syscalls get the default action, but never
//     log: with a log default they get EPERM, because they are a way
//     around the filter rather than a missing syscall. Any other
//     architecture is killed (SECCOMP_RET_KILL_PROCESS).
//   - Complain mode (Options.Complain) turns every denial, including the
//     architecture checks and failed argument rules, into
//     SECCOMP_RET_LOG. The ENOSYS answers stay.
//
// # Argument rules
//
// seccomp_data.args are 64-bit, and the filter loads 32-bit words. Every
// argument checked here is 32 bits wide where the kernel uses it:
// socket's and socketpair's domain, type and protocol and setns's nstype
// are int parameters, so the kernel truncates the register and ignores the upper
// half; clone takes lower_32_bits(clone_flags); unshare rejects any flag
// outside the known CLONE_* bits (all in the low word) with EINVAL. So
// the filter compares the low word only: checking the high word would
// deny calls the kernel treats exactly like allowed ones, and ignoring it
// lets nothing through the kernel would act on. The low word of args[i]
// is at offset 16+8i on the little-endian hosts leash supports.
//
//   - socket and socketpair (x86_64 41/53, i386 359/360, arm64 198/199):
//     the domain must be a family of the profile and the type, with
//     SOCK_NONBLOCK and SOCK_CLOEXEC masked off (type & 0xf), one of that
//     family's types. A family listed with no types allows nothing.
//   - socket, for an AF_NETLINK family that lists protocols: after the
//     type, the protocol (args[2]) must be one of them (NETLINK_ROUTE,
//     NETLINK_AUDIT, ...: each a different kernel subsystem). AF_NETLINK
//     without protocols (a profile learned before leash recorded them)
//     allows any protocol, and no other family's protocol is checked.
//     socketpair is not held to the protocols: the kernel refuses
//     AF_NETLINK pairs (EOPNOTSUPP) whatever the filter says. The check
//     adds 1 + n instructions (n protocols) to an AF_NETLINK socket call
//     only; every other syscall runs exactly as without it.
//   - i386 socketcall (102) multiplexes every socket call with its
//     arguments in memory, so it cannot be argument-checked: it is allowed
//     only if learned, and then any family passes through it. This is a
//     known gap of i386 filters (glibc uses the direct socket calls on
//     kernels >= 4.3, so a fresh profile rarely needs socketcall).
//   - clone and unshare: denied if args[0] has a CLONE_NEW* flag of a
//     namespace the profile did not learn. With every namespace learned
//     they are number-only. (For clone, CLONE_NEWTIME's bit 0x80 lies in
//     the exit-signal byte, where the kernel rejects it with EINVAL anyway;
//     only clone3 and unshare can create a time namespace.)
//   - setns: nstype (args[1]) must be non-zero with only learned
//     CLONE_NEW* bits (a pidfd may join several at once); nstype 0 joins
//     whatever namespace the fd is, so it is allowed only when every
//     namespace was learned, and then setns is number-only.
//
// # Widenings
//
// Widenings (widen.go, Widenings) are data: each is a list of groups with a
// reason. A group is either always added (go-runtime) or added only when
// the profile learned one of its members on that ABI (glibc-portability:
// siblings such as stat/newfstatat/statx). They apply to each ABI tree the
// filter has, skipping names an ABI lacks. A profile names the widenings it
// wants; unknown names are an error and nothing is ever widened silently.
// The Go runtime never calls futex_waitv or clone3, so go-runtime does not
// add them.
//
// Errors from bad Options match ErrOptions with errors.Is.
package seccomp
