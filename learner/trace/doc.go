// Package trace loads leash's eBPF recorder (package bpf), attaches it to
// the best hooks this kernel allows, and turns what it aggregated for a
// learning session into Observations.
//
// One Tracer serves several Sessions at once (the manifest workflow learns
// several components under one leash). A session records a process tree
// from the execve of the process handed to Session.Track on: the kernel
// side moves that tgid from its pending table into tracking at exec, and
// follows fork/clone of tracked tasks only. Everything is aggregated in
// maps (bitmaps and counters), never in per-event buffers, so nothing can
// be dropped; a full table sets an incomplete flag that Observations
// reports.
//
// Hooks, tried in order (Tracer.Methods says which loaded):
//   - syscalls: tp_btf/sys_enter, raw_tp/sys_enter, tracepoint
//     raw_syscalls/sys_enter (needs tracefs);
//   - capabilities: fexit/cap_capable (reads opts & CAP_OPT_NOAUDIT), else
//     tp_btf or raw_tp cap_capable with the noaudit flag attributed by the
//     kernel stack: a return address inside one of the kernel functions
//     that pass CAP_OPT_NOAUDIT (NoauditFuncs, located through
//     /proc/kallsyms) marks a silent probe;
//   - process tree: tp_btf, else raw_tp, sched_process_{fork,exec,exit}.
//
// Tracking is keyed by tid in the tasks hash map, which userspace can read
// and clean up. The syscall hook asks the kernel for the current task
// (bpf_get_current_task_btf) on every syscall: a per-CPU copy kept by a
// sched_switch hook used to save that call, but some switches never reached
// the hook on Linux 6.18, and the syscalls of the task switched in were then
// lost (a profile lacked what a program did only early in its life); the
// call's cost does not show in bench/learn. Two additions keep the rest of
// the per-syscall cost near that of an empty hook:
//   - tslots, a direct-mapped array (slot = tid % 65536), caches a tracked
//     tid's entry, claimed by compare-and-swap, cleared wherever the task
//     leaves tasks; a tracked task's syscall is a few loads.
//   - tracked_bits, one bit per tid, turns away untracked tasks whose slot
//     another task holds, with one array lookup before any hashing.
//
// Every entry carries its session's generation, so entries left behind by
// a closed session never match a later session in the same slot.
//
// A nested leash learn leaves the enclosing session: at the execve of
// leash's own binary, or, for any other leash binary (another copy, an
// installed or other version), when its tracer opens. Open first makes a
// bpf(2) call with a command no kernel has (LEASH_NEST_CMD); an enclosing
// recorder's syscall hook sees it from a tracked task, and from then on
// records nothing more of that process (any thread) and follows none of
// its children. Only the Go runtime's start-up of such a binary, before
// the announcement, is recorded. Either way is a handoff, kept in the
// handoffs map by the executable of the process that left and reported
// in Observations.Handoffs; an announcement from a binary other than the
// tracer's own (any program can make the call) is marked as such, and
// learner makes the run incomplete for it.
//
// Executables are named by absolute paths resolved in the exec hook, so
// a program that exits at once is still named right: execve's filename
// when it is absolute, the working directory's path joined with it when
// it is relative, the exec'd file's own path when the name means
// something only to the exec'ing process (/proc/self/exe, /dev/fd/N);
// up to PATH_MAX. With the path goes the file's identity at the exec
// (device, inode, ctime; Observations.ExeFiles), so that userspace hashes
// the file that ran or none: not another one put at that path since.
//
// The types and the kallsyms parser are plain Go; the tracer itself is
// Linux only (Open fails elsewhere). Errors that mean "this host cannot
// trace" match ErrEnvironment with errors.Is.
package trace
