//go:build ignore

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * leash's recorder: per learning session, every syscall (native x86_64 and
 * ia32 compat apart), every capability check, socket family and namespace
 * flag of a tracked process tree, aggregated in maps so nothing can drop.
 *
 * Tracking starts when a tgid that userspace put in `pending` execs, when
 * userspace registers running tasks in `tasks` (attaching to a live
 * process tree), or when an untracked task execs in a `watched` cgroup,
 * and follows fork/clone (threads included) from tracked tasks only. A tracked
 * task that execs leash's own binary, or a tracked process that announces
 * itself as a leash tracer (see `nested`), leaves tracking (a nested leash
 * learns its own profile); either is a handoff, recorded in `handoffs` so
 * that the profile says which subtrees it does not cover. Every failed map
 * update sets an incomplete bit of the session, so a full table is never
 * silent.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MAX_SESSIONS 256
#define MAX_TASKS 65536
#define NR_WORDS 8 /* 512 syscall numbers per ABI */
#define MAX_RANGES 32
#define MAX_FRAMES 16
#define PATH_LEN 4096 /* PATH_MAX */
#define MAX_PATH_DEPTH 2048 /* components of a PATH_MAX path: "/a" each */
#define TS_COMPAT 0x0002

/* Incomplete bits: which table was full. */
enum incomplete_bit {
	INCOMPLETE_TASKS = 1 << 0,
	INCOMPLETE_PROVENANCE = 1 << 1,
	INCOMPLETE_CAPS = 1 << 2,
	INCOMPLETE_FAMILIES = 1 << 3,
	INCOMPLETE_EXES = 1 << 4,
	INCOMPLETE_SYSCALL_NR = 1 << 5,
	INCOMPLETE_USER_READ = 1 << 6,
	INCOMPLETE_NESTED = 1 << 7,
	INCOMPLETE_HANDOFFS = 1 << 8,
};

enum abi {
	ABI_NATIVE = 0,
	ABI_COMPAT = 1,
};

struct task_info {
	__u32 session;
	__u32 exe_id;
	__u64 gen; /* the session's generation: stale entries of a closed session never match */
};

struct session_state {
	__u64 gen;       /* set by userspace when the slot is (re)used; 0: closed */
	__u64 live;      /* tracked tasks alive now */
	__u64 processes; /* processes (not threads) seen */
	__u64 ns_flags;  /* CLONE_NEW* bits of clone/clone3/unshare/setns */
	__u64 incomplete;
	__u64 native[NR_WORDS];
	__u64 compat[NR_WORDS];
};

struct sc_key {
	__u32 session;
	__u16 abi;
	__u16 nr;
};

struct cap_key {
	__u32 session;
	__u32 cap;
	__u32 noaudit;
};

struct cap_val {
	__u64 granted;
	__u64 denied;
	__u32 exe_id;
	__u32 pad;
};

struct fam_key {
	__u32 session;
	__u16 family;
	__u16 type;
	__u32 protocol; /* AF_NETLINK only (NETLINK_*); 0 for every other family */
};

struct fam_val {
	__u64 count;
	__u32 exe_id;
	__u32 pad;
};

enum exe_flag {
	EXE_F_TRUNCATED = 1 << 0, /* the path did not fit in PATH_LEN */
	EXE_F_HANDOFF = 1 << 1,   /* leash's own binary, exec'd: a handoff (see handoffs), not an executable of the session */
	EXE_F_NO_ID = 1 << 2,     /* the file's identity is unknown: it ran through an interpreter (#!, binfmt_misc) */
};

/*
 * exe names an exec'd file by an absolute path, resolved in the exec hook
 * itself (the process may be gone before userspace reads it): the
 * filename execve was given when it is absolute, else (relative, or a
 * /proc or /dev/fd name that means something only to the exec'ing
 * process, such as /proc/self/exe) the path of the working directory
 * joined with it, or of the exec'd file.
 *
 * dev, ino and ctime are the identity of the file that ran, read from its
 * inode at the exec: userspace hashes the path only after the run (or
 * during it), and records the digest only if the file it opened is still
 * that one (same device and inode, unchanged since: any write, truncate,
 * chmod or rename moves ctime, which no one can set back). An interpreted
 * exec (a #! script) has bprm->file switched to the interpreter before
 * this hook and the script's file released: its identity is unknown
 * (EXE_F_NO_ID).
 */
struct exe {
	__u32 session;
	__u32 flags; /* EXE_F_* */
	__u64 ino;
	__s64 ctime_sec;
	__u32 ctime_nsec;
	__u32 dev; /* the kernel's s_dev: major << 20 | minor */
	unsigned char path[PATH_LEN];
};

struct range {
	__u64 start;
	__u64 end;
};

struct config {
	__u64 self_ino;   /* leash's own binary: a tracked exec of it is untracked */
	__u32 self_dev;
	__u32 nranges;
	struct range noaudit[MAX_RANGES]; /* kernel text of CAP_OPT_NOAUDIT callers */
};

/*
 * tasks is the truth about tracking, keyed by tid, visible to userspace.
 * tslots caches the same entries where the syscall hook finds them with
 * no helper call and no hashing (see tslots).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_TASKS);
	__type(key, __u32); /* tid */
	__type(value, struct task_info);
} tasks SEC(".maps");

/*
 * tslots is a direct-mapped cache of tasks: slot tid % SLOTS holds the
 * entry of one tracked tid, whichever claimed it first; another tracked
 * tid of the same slot uses tracked_bits and tasks. An array lookup is
 * inlined by the verifier, so a tracked task's syscall costs loads, not
 * the helper calls of task-local storage or a hash lookup.
 *
 * A slot is claimed by a compare-and-swap of its tid from 0 (or from the
 * same tid) to SLOT_BUSY, filled, then published by writing the tid: a
 * reader that sees its own tid sees a filled slot (stores are ordered on
 * x86; elsewhere the fill and the publish are atomics). Only the owner's
 * own hooks and attach write a published slot. Every path that removes a
 * task from tasks clears its slot; a closed session's slots die by
 * generation, like its tasks entries.
 */
#define SLOTS (1 << 16)
#define SLOT_BUSY 0xffffffff /* never a tid (PID_MAX_LIMIT is 2^22) */
struct slot {
	__u32 tid; /* 0: free */
	__u32 pad;
	struct task_info info;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOTS);
	__type(key, __u32);
	__type(value, struct slot);
} tslots SEC(".maps");

/*
 * tracked_bits has one bit per tid (PID_MAX_LIMIT is 2^22 on 64-bit): set
 * while the tid is in tasks. It is a prefilter that keeps the syscall hook
 * of untracked tasks, by far the most common case, down to an array
 * lookup; tasks stays the truth. A stale set bit only costs a hash lookup
 * and is cleared when that tid exits.
 */
#define TID_WORDS (1 << 16)
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TID_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} tracked_bits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tgid of a stub about to exec */
	__type(value, __u32); /* session */
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SESSIONS);
	__type(key, __u32);
	__type(value, struct session_state);
} sessions SEC(".maps");

/*
 * watched: cgroup v2 ids whose processes a session (leash learn --cgroup)
 * records. Attaching registers the tasks already in the cgroup from
 * userspace (cgroup.procs, straight into tasks); from then on, fork
 * follows them as usual. A process that enters the cgroup from outside
 * (systemd forks in its own cgroup, moves the child in, then execs the
 * service) is picked up at its execve, by the cgroup of the exec'ing
 * task or of any of its ancestors up to MAX_CGROUP_DEPTH; one that is
 * moved in and never execs is found by userspace's periodic rescan of
 * cgroup.procs. Fork deliberately does not check the cgroup: the pre-exec
 * child of a supervisor (or of a leash inside the service) is not the
 * service, and its untracked parent's children are not ours either.
 */
#define MAX_CGROUP_DEPTH 16
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64); /* cgroup id (the cgroup directory's inode number) */
	__type(value, __u32); /* session */
} watched SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct sc_key);
	__type(value, __u32); /* first exe id */
} sc_prov SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct cap_key);
	__type(value, struct cap_val);
} caps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct fam_key);
	__type(value, struct fam_val);
} families SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* userspace drains it while learning */
	__uint(map_flags, BPF_F_NO_PREALLOC); /* 4 KiB a value: pay only for what is used */
	__type(key, __u32); /* exe id */
	__type(value, struct exe);
} exes SEC(".maps");

/* path_buf is where an exe's path is put together, right to left. */
struct path_buf {
	unsigned char buf[2 * PATH_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_buf);
} path_scratch SEC(".maps");

/*
 * nested holds the tgids of tracked processes that announced themselves
 * as a leash tracer (a nested leash learn, whatever its binary): the
 * syscall bpf(LEASH_NEST_CMD), which the kernel rejects, made before the
 * tracer's first real BPF call. From the announcement on, nothing the
 * process does is recorded and its children are not followed: the nested
 * leash learns them into its own profile. The entry goes when the
 * process's last thread exits.
 */
#define LEASH_NEST_CMD 0x6c656173 /* "leas"; bpf(2) commands are small numbers */
#define NR_BPF 321                /* x86_64 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);   /* tgid */
	__type(value, __u32); /* session it left */
} nested SEC(".maps");

/*
 * handoffs records, per session, every subtree handed to a nested tracer,
 * by the executable of the process that left: a tracked exec of leash's
 * own binary (HANDOFF_LEASH), or a tracked process that announced itself
 * (see nested). Userspace writes them into the run's provenance, so that
 * leaving is never silent.
 *
 * Why an announcement is honoured whatever the announcer's binary: the
 * kernel can tell leash's own binary (its inode, in config), but not
 * another build or version of leash from any program making the same
 * call, and a nested leash of another binary is supported (an installed
 * leash, a newer one). Refusing those would put the inner tracer and the
 * component it trains into this profile, wrongly the other way. So an
 * announcement from a process that is not leash's own binary is honoured
 * but recorded as HANDOFF_FOREIGN, and userspace marks the run incomplete
 * for it: a program that uses the announcement to hide its privileges
 * ends up with an incomplete profile that names it, and `leash diff`
 * counts a new handoff as a grant.
 */
enum handoff_kind {
	HANDOFF_LEASH = 1,   /* the process runs leash's own binary (dev+ino) */
	HANDOFF_FOREIGN = 2, /* announced by a process of another binary */
};

struct handoff_key {
	__u32 session;
	__u32 exe_id; /* the executable of the process that left */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct handoff_key);
	__type(value, __u32); /* enum handoff_kind */
} handoffs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exe);
} exe_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
} config_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} exe_counter SEC(".maps");

static __always_inline void mark_incomplete(struct session_state *s, __u64 bit)
{
	if (s && !(s->incomplete & bit))
		__sync_fetch_and_or(&s->incomplete, bit);
}

static __always_inline struct session_state *session_of(__u32 session)
{
	return bpf_map_lookup_elem(&sessions, &session);
}

/* is_self says whether inode is leash's own binary (config's self_ino/dev). */
static __always_inline bool is_self(struct inode *inode)
{
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config_map, &zero);
	if (!inode || !cfg || !cfg->self_ino)
		return false;
	return BPF_CORE_READ(inode, i_ino) == cfg->self_ino && BPF_CORE_READ(inode, i_sb, s_dev) == cfg->self_dev;
}

/* add_handoff records that session handed a subtree to a nested tracer. */
static __always_inline void add_handoff(struct session_state *s, __u32 session, __u32 exe_id, __u32 kind)
{
	struct handoff_key key = { .session = session, .exe_id = exe_id };
	long err = bpf_map_update_elem(&handoffs, &key, &kind, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: the same executable left before */)
		mark_incomplete(s, INCOMPLETE_HANDOFFS);
}

/* A trusted BTF pointer: plain loads, no probe-read helper. */
static __always_inline bool is_compat(struct task_struct *task)
{
	return task->thread_info.status & TS_COMPAT;
}

static __always_inline bool maybe_tracked(__u32 tid)
{
	__u32 w = (tid >> 6) & (TID_WORDS - 1);
	__u64 *word = bpf_map_lookup_elem(&tracked_bits, &w);
	return word && (*word & (1ULL << (tid & 63)));
}

static __always_inline void set_tracked(__u32 tid)
{
	__u32 w = (tid >> 6) & (TID_WORDS - 1);
	__u64 *word = bpf_map_lookup_elem(&tracked_bits, &w);
	if (word)
		__sync_fetch_and_or(word, 1ULL << (tid & 63));
}

static __always_inline void clear_tracked(__u32 tid)
{
	__u32 w = (tid >> 6) & (TID_WORDS - 1);
	__u64 *word = bpf_map_lookup_elem(&tracked_bits, &w);
	if (word && (*word & (1ULL << (tid & 63))))
		__sync_fetch_and_and(word, ~(1ULL << (tid & 63)));
}

static __always_inline struct slot *slot_of(__u32 tid)
{
	__u32 idx = tid & (SLOTS - 1);
	return bpf_map_lookup_elem(&tslots, &idx);
}

/* slot_set caches tid's tracking in its slot, if the slot is free or tid's. */
static __always_inline void slot_set(__u32 tid, const struct task_info *info)
{
	struct slot *sl = slot_of(tid);
	if (!sl)
		return;
	__u32 cur = sl->tid;
	if (cur != 0 && cur != tid)
		return; /* another task's: tid goes through tasks */
	if (__sync_val_compare_and_swap(&sl->tid, cur, SLOT_BUSY) != cur)
		return;
	sl->info = *info;
	__sync_lock_test_and_set(&sl->tid, tid);
}

/* slot_clear frees tid's slot, if it holds tid. */
static __always_inline void slot_clear(__u32 tid)
{
	struct slot *sl = slot_of(tid);
	if (sl && sl->tid == tid)
		__sync_val_compare_and_swap(&sl->tid, tid, 0);
}

/*
 * left_tracking says whether the current process announced itself as a
 * nested tracer (see nested). Only the paths that record something new
 * ask: a syscall seen before records nothing, so the hot path is spared.
 */
static __always_inline bool left_tracking(__u32 tgid)
{
	return bpf_map_lookup_elem(&nested, &tgid) != 0;
}

static __always_inline bool current_left(void)
{
	return left_tracking(bpf_get_current_pid_tgid() >> 32);
}

static __always_inline void set_syscall(struct session_state *s, const struct task_info *t, __u16 abi, __u32 nr)
{
	if (nr >= NR_WORDS * 64) {
		if (!current_left())
			mark_incomplete(s, INCOMPLETE_SYSCALL_NR);
		return;
	}
	__u64 bit = 1ULL << (nr & 63);
	__u64 *word = abi == ABI_COMPAT ? &s->compat[(nr >> 6) & (NR_WORDS - 1)] : &s->native[(nr >> 6) & (NR_WORDS - 1)];
	if (*word & bit)
		return; /* the common case: seen before, no atomic needed */
	if (current_left())
		return;
	__u64 old = __sync_fetch_and_or(word, bit);
	if (old & bit)
		return;
	struct sc_key key = { .session = t->session, .abi = abi, .nr = nr };
	__u32 exe = t->exe_id;
	long err = bpf_map_update_elem(&sc_prov, &key, &exe, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST */)
		mark_incomplete(s, INCOMPLETE_PROVENANCE);
}

static __always_inline void add_family(struct session_state *s, const struct task_info *t, __u64 family, __u64 type,
				       __u64 protocol)
{
	if (current_left())
		return;
	struct fam_key key = { .session = t->session, .family = family, .type = type & 0xf };
	if ((__u32)family == 16 /* AF_NETLINK */)
		key.protocol = (__u32)protocol;
	struct fam_val *v = bpf_map_lookup_elem(&families, &key);
	if (!v) {
		struct fam_val zero = { .exe_id = t->exe_id };
		long err = bpf_map_update_elem(&families, &key, &zero, BPF_NOEXIST);
		if (err && err != -17) {
			mark_incomplete(s, INCOMPLETE_FAMILIES);
			return;
		}
		v = bpf_map_lookup_elem(&families, &key);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->count, 1);
}

static __always_inline void add_ns(struct session_state *s, __u64 flags)
{
	const __u64 mask = 0x02000000 | 0x08000000 | 0x00020000 | 0x40000000 | 0x20000000 | 0x00000080 | 0x10000000 | 0x04000000;
	flags &= mask;
	if (flags && (s->ns_flags & flags) != flags && !current_left())
		__sync_fetch_and_or(&s->ns_flags, flags);
}

static __always_inline __u64 regs_arg(struct pt_regs *regs, int n, bool compat)
{
	if (compat) {
		switch (n) {
		case 0: return (__u32)BPF_CORE_READ(regs, bx);
		case 1: return (__u32)BPF_CORE_READ(regs, cx);
		default: return (__u32)BPF_CORE_READ(regs, dx);
		}
	}
	switch (n) {
	case 0: return BPF_CORE_READ(regs, di);
	case 1: return BPF_CORE_READ(regs, si);
	default: return BPF_CORE_READ(regs, dx);
	}
}

/*
 * Interesting syscalls: their arguments name families and namespaces.
 * Native x86_64 and i386 numbers differ; both are listed.
 */
static __always_inline void syscall_args(struct session_state *s, const struct task_info *t, bool compat, __u32 nr,
					 __u64 a0, __u64 a1, __u64 a2)
{
	if (!compat) {
		switch (nr) {
		case 41: /* socket */
		case 53: /* socketpair */
			add_family(s, t, a0, a1, a2);
			break;
		case 56: /* clone */
			add_ns(s, a0 & ~0xffULL); /* the low byte is the exit signal */
			break;
		case 272: /* unshare */
			add_ns(s, a0);
			break;
		case 308: /* setns */
			add_ns(s, a1);
			break;
		case 435: { /* clone3 */
			__u64 flags = 0;
			/* NULL (a support probe) fails with EFAULT: nothing to miss. */
			if (a0 && bpf_probe_read_user(&flags, sizeof(flags), (void *)a0) == 0)
				add_ns(s, flags);
			else if (a0)
				mark_incomplete(s, INCOMPLETE_USER_READ);
			break;
		}
		}
		return;
	}
	switch (nr) {
	case 359: /* socket */
	case 360: /* socketpair */
		add_family(s, t, a0, a1, a2);
		break;
	case 102: /* socketcall */
		if (a0 == 1 || a0 == 8) {
			__u32 args[3] = {};
			if (a1 && bpf_probe_read_user(args, sizeof(args), (void *)(unsigned long)a1) == 0)
				add_family(s, t, args[0], args[1], args[2]);
			else if (a1)
				mark_incomplete(s, INCOMPLETE_USER_READ);
		}
		break;
	case 120: /* clone */
		add_ns(s, a0 & ~0xffULL);
		break;
	case 310: /* unshare */
		add_ns(s, a0);
		break;
	case 346: /* setns */
		add_ns(s, a1);
		break;
	case 435: { /* clone3 */
		__u64 flags = 0;
		if (a0 && bpf_probe_read_user(&flags, sizeof(flags), (void *)(unsigned long)a0) == 0)
			add_ns(s, flags);
		else if (a0)
			mark_incomplete(s, INCOMPLETE_USER_READ);
		break;
	}
	}
}

static __always_inline bool interesting(bool compat, __u32 nr)
{
	if (!compat)
		return nr == 41 || nr == 53 || nr == 56 || nr == 272 || nr == 308 || nr == 435;
	return nr == 359 || nr == 360 || nr == 102 || nr == 120 || nr == 310 || nr == 346 || nr == 435;
}

/* live_session returns the session of t if it is still the one t joined. */
static __always_inline struct session_state *live_session(const struct task_info *t)
{
	struct session_state *s = session_of(t->session);
	if (!s || !t->gen || s->gen != t->gen)
		return 0;
	return s;
}

/*
 * tracked finds the current task's tracking: its slot answers with loads
 * alone; else tracked_bits rules out almost every task with one array
 * lookup, and tasks answers the rest (a tid whose slot another task holds).
 */
static __always_inline struct task_info *tracked_tid(__u32 tid, struct session_state **s)
{
	struct task_info *t;
	struct slot *sl = slot_of(tid);
	if (tid && sl && sl->tid == tid) {
		t = &sl->info;
	} else {
		if (!maybe_tracked(tid))
			return 0;
		t = bpf_map_lookup_elem(&tasks, &tid);
		if (!t)
			return 0;
	}
	*s = live_session(t);
	if (!*s)
		return 0;
	return t;
}

static __always_inline struct task_info *tracked(struct session_state **s)
{
	struct task_struct *task = bpf_get_current_task_btf();
	return tracked_tid(task->pid, s);
}

/*
 * tracked_syscall is tracked for the syscall hook, with the ABI of the
 * syscall. The current task comes from the helper on every syscall: a
 * per-CPU copy kept by a sched_switch hook saved that call, but a switch
 * hook does not see every switch (on Linux 6.18 some went unseen, and the
 * syscalls of the task switched in were then charged to the one before,
 * and lost), and the call costs nothing measurable here (bench/learn).
 */
static __always_inline struct task_info *tracked_syscall(struct session_state **s, bool *compat)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_info *t = tracked_tid(task->pid, s);
	if (t)
		*compat = is_compat(task);
	return t;
}

/*
 * leave_tracking takes the current process out of its session: it
 * announced itself as a nested tracer (see nested). The announcement
 * itself is not recorded either.
 */
static __always_inline void leave_tracking(struct session_state *s, const struct task_info *t)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 session = t->session;
	if (left_tracking(tgid))
		return; /* announced before: recorded then */
	/* Honoured whoever announces, but never silently: see handoffs. */
	struct task_struct *task = bpf_get_current_task_btf();
	struct inode *exe = BPF_CORE_READ(task, mm, exe_file, f_inode);
	add_handoff(s, session, t->exe_id, is_self(exe) ? HANDOFF_LEASH : HANDOFF_FOREIGN);
	if (bpf_map_update_elem(&nested, &tgid, &session, BPF_ANY))
		mark_incomplete(s, INCOMPLETE_NESTED);
}

static __always_inline int on_sys_enter_regs(struct pt_regs *regs, long id)
{
	struct session_state *s;
	bool compat = false;
	struct task_info *t = tracked_syscall(&s, &compat);
	if (!t)
		return 0;
	if (id < 0)
		return 0;
	__u32 nr = id;
	if (nr == NR_BPF && !compat && regs_arg(regs, 0, false) == LEASH_NEST_CMD) {
		leave_tracking(s, t);
		return 0;
	}
	set_syscall(s, t, compat ? ABI_COMPAT : ABI_NATIVE, nr);
	if (interesting(compat, nr))
		syscall_args(s, t, compat, nr, regs_arg(regs, 0, compat), regs_arg(regs, 1, compat), regs_arg(regs, 2, compat));
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter_btf, struct pt_regs *regs, long id)
{
	return on_sys_enter_regs(regs, id);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(sys_enter_raw, struct pt_regs *regs, long id)
{
	return on_sys_enter_regs(regs, id);
}

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter_tp(struct trace_event_raw_sys_enter *ctx)
{
	struct session_state *s;
	bool compat = false;
	struct task_info *t = tracked_syscall(&s, &compat);
	if (!t)
		return 0;
	long id = BPF_CORE_READ(ctx, id);
	if (id < 0)
		return 0;
	__u32 nr = id;
	if (nr == NR_BPF && !compat && BPF_CORE_READ(ctx, args[0]) == LEASH_NEST_CMD) {
		leave_tracking(s, t);
		return 0;
	}
	set_syscall(s, t, compat ? ABI_COMPAT : ABI_NATIVE, nr);
	if (interesting(compat, nr)) {
		__u64 a0 = BPF_CORE_READ(ctx, args[0]);
		__u64 a1 = BPF_CORE_READ(ctx, args[1]);
		__u64 a2 = BPF_CORE_READ(ctx, args[2]);
		if (compat) {
			a0 = (__u32)a0;
			a1 = (__u32)a1;
			a2 = (__u32)a2;
		}
		syscall_args(s, t, compat, nr, a0, a1, a2);
	}
	return 0;
}

/* ---- process tree ---- */

static __always_inline void on_fork(struct task_struct *parent, struct task_struct *child)
{
	__u32 ppid = BPF_CORE_READ(parent, pid);
	if (!maybe_tracked(ppid))
		return;
	struct task_info *t = bpf_map_lookup_elem(&tasks, &ppid);
	if (!t)
		return;
	struct task_info info = *t;
	struct session_state *s = live_session(&info);
	if (!s)
		return;
	if (left_tracking(BPF_CORE_READ(parent, tgid)))
		return; /* a nested tracer's threads and children are not ours */
	__u32 cpid = BPF_CORE_READ(child, pid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	/*
	 * Userspace attaching to a running tree (leash learn --pid) may have
	 * registered the child already, between its creation and this hook:
	 * then it is counted once, by whoever registered it first.
	 */
	long err = bpf_map_update_elem(&tasks, &cpid, &info, BPF_NOEXIST);
	if (err == -17 /* EEXIST */) {
		struct task_info *old = bpf_map_lookup_elem(&tasks, &cpid);
		if (old && old->session == info.session && old->gen == info.gen) {
			set_tracked(cpid);
			slot_set(cpid, old); /* the slot caches what tasks holds */
			return;
		}
		err = bpf_map_update_elem(&tasks, &cpid, &info, BPF_ANY); /* a stale entry */
	}
	if (err) {
		mark_incomplete(s, INCOMPLETE_TASKS);
		return;
	}
	set_tracked(cpid);
	slot_set(cpid, &info); /* the child has not run yet */
	__sync_fetch_and_add(&s->live, 1);
	if (cpid == ctgid)
		__sync_fetch_and_add(&s->processes, 1);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork_btf, struct task_struct *parent, struct task_struct *child)
{
	on_fork(parent, child);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(fork_raw, struct task_struct *parent, struct task_struct *child)
{
	on_fork(parent, child);
	return 0;
}

/* ---- executable paths ---- */

/*
 * path_walk is the state of walking a path up to the root, one dentry per
 * step, across mount points; the names go into path_buf right to left,
 * ending at PATH_LEN.
 */
struct path_walk {
	struct dentry *dentry;
	struct mount *mnt;
	__u32 pos; /* where the path built so far starts */
	__u32 done;
	__u32 truncated;
};

static long path_step(__u64 i, struct path_walk *w)
{
	__u32 zero = 0;
	struct path_buf *pb = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!pb)
		return 1;
	struct dentry *d = w->dentry;
	struct mount *m = w->mnt;
	if (d == BPF_CORE_READ(m, mnt.mnt_root)) {
		struct mount *parent = BPF_CORE_READ(m, mnt_parent);
		if (parent == m || !parent) {
			w->done = 1; /* the root of the mount tree */
			return 1;
		}
		w->dentry = BPF_CORE_READ(m, mnt_mountpoint);
		w->mnt = parent;
		return 0;
	}
	struct dentry *up = BPF_CORE_READ(d, d_parent);
	if (up == d || !up) {
		w->done = 1; /* a filesystem root that is mounted nowhere */
		return 1;
	}
	__u32 len = BPF_CORE_READ(d, d_name.len);
	if (len + 1 > w->pos) {
		w->truncated = 1;
		return 1;
	}
	w->pos -= len;
	bpf_probe_read_kernel(&pb->buf[w->pos & (PATH_LEN - 1)], len & (PATH_LEN - 1), BPF_CORE_READ(d, d_name.name));
	w->pos -= 1;
	pb->buf[w->pos & (PATH_LEN - 1)] = '/';
	w->dentry = up;
	return 0;
}

/*
 * walk_path writes the absolute path of (mnt, dentry) into pb, ending at
 * PATH_LEN, and returns where it starts (PATH_LEN on failure).
 */
static __always_inline __u32 walk_path(struct path_buf *pb, struct vfsmount *mnt, struct dentry *dentry, __u32 *flags)
{
	struct path_walk w = {
		.dentry = dentry,
		.mnt = (void *)mnt - bpf_core_field_offset(struct mount, mnt),
		.pos = PATH_LEN,
	};
	bpf_loop(MAX_PATH_DEPTH, path_step, &w, 0);
	if (w.truncated || !w.done) {
		*flags |= EXE_F_TRUNCATED;
		return PATH_LEN;
	}
	if (w.pos == PATH_LEN) {
		w.pos = PATH_LEN - 1; /* the root itself */
		pb->buf[w.pos] = '/';
	}
	return w.pos;
}

/* context_dependent: a /proc or /dev/fd name, meaningful only to its process. */
static __always_inline bool context_dependent(const unsigned char *p)
{
	if (p[0] == '/' && p[1] == 'p' && p[2] == 'r' && p[3] == 'o' && p[4] == 'c' && p[5] == '/')
		return true;
	return p[0] == '/' && p[1] == 'd' && p[2] == 'e' && p[3] == 'v' && p[4] == '/' && p[5] == 'f' && p[6] == 'd' &&
	       p[7] == '/';
}

/*
 * exe_path fills e->path and e->flags for an exec of file by the name
 * filename (bprm's; see struct exe). A global function: the verifier
 * checks it once, not once for each of the exec hook's calls; so its
 * kernel pointers come as plain numbers.
 */
__noinline int exe_path(struct exe *e, __u64 filename_addr, __u64 file_addr)
{
	if (!e)
		return 0;
	const char *filename = (const char *)filename_addr;
	struct file *file = (struct file *)file_addr;
	e->flags = 0;
	long n = bpf_probe_read_kernel_str(e->path, sizeof(e->path), filename);
	if (n > 0 && e->path[0] == '/' && !context_dependent(e->path))
		return 0;
	__u32 zero = 0;
	struct path_buf *pb = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!pb)
		goto fail;
	__u32 pos;
	if (n > 1 && e->path[0] != '/') {
		/* Relative: the exec'ing task's working directory, then the name. */
		struct task_struct *task = bpf_get_current_task_btf();
		struct path pwd = BPF_CORE_READ(task, fs, pwd);
		pos = walk_path(pb, pwd.mnt, pwd.dentry, &e->flags);
		if (pos >= PATH_LEN || (PATH_LEN - pos) + n >= PATH_LEN)
			goto truncated;
		pb->buf[PATH_LEN] = '/';
		bpf_probe_read_kernel_str(&pb->buf[PATH_LEN + 1], PATH_LEN - 1, filename);
	} else {
		/* A context-dependent name (or none): the exec'd file's own path. */
		struct path fp = BPF_CORE_READ(file, f_path);
		pos = walk_path(pb, fp.mnt, fp.dentry, &e->flags);
		if (pos >= PATH_LEN)
			goto truncated;
		pb->buf[PATH_LEN] = 0;
	}
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), &pb->buf[pos & (PATH_LEN - 1)]);
	return 0;
truncated:
	e->flags |= EXE_F_TRUNCATED;
	if (n > 0)
		return 0; /* keep the name as given */
fail:
	e->path[0] = 0;
	return 0;
}

/* Before Linux 6.11, ctime was a timespec64 (__i_ctime from 6.6, i_ctime before). */
struct timespec64___leash {
	__s64 tv_sec;
	long tv_nsec;
} __attribute__((preserve_access_index));

struct inode___pre611 {
	struct timespec64___leash __i_ctime;
} __attribute__((preserve_access_index));

struct inode___pre66 {
	struct timespec64___leash i_ctime;
} __attribute__((preserve_access_index));

#define I_CTIME_QUERIED (1U << 31) /* multigrain timestamps keep a flag in ctime's nanoseconds */

/* exe_identity fills e's identity from the exec'd file (see struct exe). */
static __always_inline void exe_identity(struct exe *e, struct linux_binprm *bprm)
{
	e->ino = 0;
	e->dev = 0;
	e->ctime_sec = 0;
	e->ctime_nsec = 0;
	if (BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename)) {
		/* bprm->file is the interpreter now; the file named is released. */
		e->flags |= EXE_F_NO_ID;
		return;
	}
	struct inode *inode = BPF_CORE_READ(bprm, file, f_inode);
	if (!inode) {
		e->flags |= EXE_F_NO_ID;
		return;
	}
	e->ino = BPF_CORE_READ(inode, i_ino);
	e->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	if (bpf_core_field_exists(inode->i_ctime_sec)) {
		e->ctime_sec = BPF_CORE_READ(inode, i_ctime_sec);
		e->ctime_nsec = BPF_CORE_READ(inode, i_ctime_nsec) & ~I_CTIME_QUERIED;
	} else if (bpf_core_field_exists(((struct inode___pre611 *)0)->__i_ctime)) {
		struct inode___pre611 *i = (void *)inode;
		e->ctime_sec = BPF_CORE_READ(i, __i_ctime.tv_sec);
		e->ctime_nsec = BPF_CORE_READ(i, __i_ctime.tv_nsec) & ~I_CTIME_QUERIED;
	} else {
		struct inode___pre66 *i = (void *)inode;
		e->ctime_sec = BPF_CORE_READ(i, i_ctime.tv_sec);
		e->ctime_nsec = BPF_CORE_READ(i, i_ctime.tv_nsec);
	}
}

static __always_inline __u32 new_exe(struct session_state *s, __u32 session, struct linux_binprm *bprm, __u32 flags)
{
	__u32 zero = 0;
	__u64 *ctr = bpf_map_lookup_elem(&exe_counter, &zero);
	if (!ctr)
		return 0;
	__u32 id = __sync_fetch_and_add(ctr, 1) + 1;
	/* struct exe is too big for the BPF stack: build it in a per-CPU slot. */
	struct exe *e = bpf_map_lookup_elem(&exe_scratch, &zero);
	if (!e)
		return 0;
	e->session = session;
	exe_path(e, (__u64)BPF_CORE_READ(bprm, filename), (__u64)BPF_CORE_READ(bprm, file));
	e->flags |= flags;
	exe_identity(e, bprm);
	if (bpf_map_update_elem(&exes, &id, e, BPF_NOEXIST)) {
		mark_incomplete(s, INCOMPLETE_EXES);
		return 0;
	}
	return id;
}

/* watched_session is the session watching the current task's cgroup. */
static __always_inline __u32 watched_session(void)
{
	for (int level = MAX_CGROUP_DEPTH; level >= 0; level--) {
		/* 0 when the task's cgroup is not that deep. */
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			continue;
		__u32 *session = bpf_map_lookup_elem(&watched, &id);
		if (session)
			return *session; /* the innermost watched cgroup */
	}
	return 0;
}

/*
 * watched_exec starts tracking an untracked task that execs inside a
 * watched cgroup (see watched): its execve is then the first thing
 * recorded, as for a pending stub. An exec of leash's own binary is not
 * tracked (a leash inside the service learns or runs on its own).
 */
static __always_inline void watched_exec(__u32 pid, struct linux_binprm *bprm)
{
	__u32 session = watched_session();
	if (!session)
		return;
	struct session_state *s = session_of(session);
	if (!s || !s->gen)
		return;
	if (is_self(BPF_CORE_READ(bprm, file, f_inode))) {
		add_handoff(s, session, new_exe(s, session, bprm, EXE_F_HANDOFF), HANDOFF_LEASH);
		return;
	}
	struct task_info info = { .session = session, .gen = s->gen };
	info.exe_id = new_exe(s, session, bprm, 0);
	long err = bpf_map_update_elem(&tasks, &pid, &info, BPF_NOEXIST);
	if (err == -17 /* EEXIST: a stale entry */)
		err = bpf_map_update_elem(&tasks, &pid, &info, BPF_ANY);
	if (err) {
		mark_incomplete(s, INCOMPLETE_TASKS);
		return;
	}
	set_tracked(pid);
	slot_set(pid, &info);
	__sync_fetch_and_add(&s->live, 1);
	__sync_fetch_and_add(&s->processes, 1);
	set_syscall(s, &info, ABI_NATIVE, 59); /* its execve began untracked */
}

/* ---- attaching to running tasks ---- */

/*
 * attach_req is what userspace passes to attach_task (BPF_PROG_RUN) for one
 * task of a running process tree or cgroup. Registering in the kernel, not
 * with map updates from userspace, keeps the tracked_bits words and the
 * session's counters atomic against the hooks running on other CPUs.
 */
struct attach_req {
	__u32 tid;
	__u32 session;
	__u32 exe_id;  /* userspace's id of the task's executable */
	__u32 flags;   /* ATTACH_F_* */
};

enum attach_flag {
	ATTACH_F_PROCESS = 1 << 0, /* tid is a thread-group leader: count a process */
	ATTACH_F_DETACH = 1 << 1,  /* undo: the task exited while it was registered */
};

enum attach_result {
	ATTACH_ADDED = 1,  /* now tracked */
	ATTACH_KNOWN = 2,  /* already tracked by this session (fork followed it) */
	ATTACH_CLOSED = 3, /* the session is closed */
	ATTACH_FULL = 4,   /* the tasks table is full */
	ATTACH_REMOVED = 5,
	ATTACH_ABSENT = 6, /* detach: not tracked by this session (any more) */
};

SEC("syscall")
int attach_task(struct attach_req *req)
{
	__u32 tid = req->tid;
	__u32 session = req->session;
	struct session_state *s = session_of(session);
	if (!s || !s->gen)
		return ATTACH_CLOSED;
	if (req->flags & ATTACH_F_DETACH) {
		struct task_info *t = bpf_map_lookup_elem(&tasks, &tid);
		if (!t || t->session != session || t->gen != s->gen)
			return ATTACH_ABSENT;
		/* Whoever deletes the entry (this or the exit hook) counts it. */
		if (bpf_map_delete_elem(&tasks, &tid))
			return ATTACH_ABSENT;
		clear_tracked(tid);
		slot_clear(tid);
		__sync_fetch_and_sub(&s->live, 1);
		return ATTACH_REMOVED;
	}
	struct task_info info = { .session = session, .exe_id = req->exe_id, .gen = s->gen };
	long err = bpf_map_update_elem(&tasks, &tid, &info, BPF_NOEXIST);
	if (err == -17 /* EEXIST */) {
		struct task_info *old = bpf_map_lookup_elem(&tasks, &tid);
		if (old && old->session == session && old->gen == s->gen) {
			set_tracked(tid);
			slot_set(tid, old); /* the slot caches what tasks holds */
			return ATTACH_KNOWN;
		}
		err = bpf_map_update_elem(&tasks, &tid, &info, BPF_ANY); /* a stale entry */
	}
	if (err) {
		mark_incomplete(s, INCOMPLETE_TASKS);
		return ATTACH_FULL;
	}
	set_tracked(tid);
	slot_set(tid, &info);
	__sync_fetch_and_add(&s->live, 1);
	if (req->flags & ATTACH_F_PROCESS)
		__sync_fetch_and_add(&s->processes, 1);
	return ATTACH_ADDED;
}

/* sched_process_exec runs in the exec'ing task: p is current. */
static __always_inline void on_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 pid = BPF_CORE_READ(p, pid);
	__u32 tgid = BPF_CORE_READ(p, tgid);
	__u32 old = old_pid;

	__u32 *pend = bpf_map_lookup_elem(&pending, &tgid);
	if (pend) {
		__u32 session = *pend;
		bpf_map_delete_elem(&pending, &tgid);
		struct session_state *s = session_of(session);
		if (!s || !s->gen)
			return;
		struct task_info info = { .session = session, .gen = s->gen };
		info.exe_id = new_exe(s, session, bprm, 0);
		if (bpf_map_update_elem(&tasks, &pid, &info, BPF_ANY)) {
			mark_incomplete(s, INCOMPLETE_TASKS);
			return;
		}
		set_tracked(pid);
		slot_set(pid, &info);
		__sync_fetch_and_add(&s->live, 1);
		__sync_fetch_and_add(&s->processes, 1);
		/* The stub's own execve happened before tracking began. */
		set_syscall(s, &info, ABI_NATIVE, 59);
		return;
	}

	if (!maybe_tracked(old)) {
		watched_exec(pid, bprm);
		return;
	}
	struct task_info *t = bpf_map_lookup_elem(&tasks, &old);
	if (!t) {
		watched_exec(pid, bprm);
		return;
	}
	struct task_info info = *t;
	struct session_state *s = live_session(&info);
	if (old != pid) {
		/* A non-leader thread exec'd and took over the leader's pid. */
		bpf_map_delete_elem(&tasks, &old);
		clear_tracked(old);
		slot_clear(old);
		if (!s)
			return;
		if (bpf_map_update_elem(&tasks, &pid, &info, BPF_ANY)) {
			mark_incomplete(s, INCOMPLETE_TASKS);
			__sync_fetch_and_sub(&s->live, 1);
			slot_clear(pid);
			return;
		}
		set_tracked(pid);
	}
	if (!s)
		return;

	/*
	 * A nested leash: it and its subtree are not ours. Leash's own binary
	 * is known at exec; any other leash announces itself later (see
	 * nested), and an exec after that stays out too.
	 */
	bool nested_leash = left_tracking(tgid); /* its handoff is recorded */
	if (!nested_leash && is_self(BPF_CORE_READ(bprm, file, f_inode))) {
		nested_leash = true;
		add_handoff(s, info.session, new_exe(s, info.session, bprm, EXE_F_HANDOFF), HANDOFF_LEASH);
	}
	if (nested_leash) {
		if (bpf_map_delete_elem(&tasks, &pid) == 0)
			__sync_fetch_and_sub(&s->live, 1);
		clear_tracked(pid);
		slot_clear(pid);
		return;
	}

	info.exe_id = new_exe(s, info.session, bprm, 0);
	t = bpf_map_lookup_elem(&tasks, &pid);
	if (t)
		t->exe_id = info.exe_id;
	slot_set(pid, &info);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	on_exec(p, old_pid, bprm);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(exec_raw, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	on_exec(p, old_pid, bprm);
	return 0;
}

static __always_inline void on_exit(struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, pid);
	if (BPF_CORE_READ(p, signal, live.counter) == 0) {
		/* The process's last thread: a nested tracer's tgid is free again. */
		__u32 tgid = BPF_CORE_READ(p, tgid);
		bpf_map_delete_elem(&nested, &tgid);
	}
	slot_clear(pid);
	if (!maybe_tracked(pid))
		return;
	clear_tracked(pid);
	struct task_info *t = bpf_map_lookup_elem(&tasks, &pid);
	if (!t)
		return;
	struct session_state *s = live_session(t);
	if (bpf_map_delete_elem(&tasks, &pid) == 0 && s)
		__sync_fetch_and_sub(&s->live, 1);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_btf, struct task_struct *p)
{
	on_exit(p);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(exit_raw, struct task_struct *p)
{
	on_exit(p);
	return 0;
}

/* ---- capability checks ---- */

static __always_inline void add_cap(int cap, bool granted, bool noaudit)
{
	struct session_state *s;
	struct task_info *t = tracked(&s);
	if (!t || current_left())
		return;
	struct cap_key key = { .session = t->session, .cap = cap, .noaudit = noaudit };
	struct cap_val *v = bpf_map_lookup_elem(&caps, &key);
	if (!v) {
		struct cap_val zero = { .exe_id = t->exe_id };
		long err = bpf_map_update_elem(&caps, &key, &zero, BPF_NOEXIST);
		if (err && err != -17) {
			mark_incomplete(s, INCOMPLETE_CAPS);
			return;
		}
		v = bpf_map_lookup_elem(&caps, &key);
		if (!v)
			return;
	}
	if (granted)
		__sync_fetch_and_add(&v->granted, 1);
	else
		__sync_fetch_and_add(&v->denied, 1);
}

/* Preferred: fexit sees opts. Refused (EPERM) on some kernels. */
SEC("fexit/cap_capable")
int BPF_PROG(cap_fexit, const struct cred *cred, struct user_namespace *ns, int cap, unsigned int opts, int ret)
{
	add_cap(cap, ret == 0, opts & 0x2 /* CAP_OPT_NOAUDIT */);
	return 0;
}

/*
 * Fallback: the cap_capable tracepoint has no opts, so the check is
 * attributed by its callers: a return address inside one of the kernel
 * functions that pass CAP_OPT_NOAUDIT makes it a silent probe.
 */
struct stack_scratch {
	__u64 frames[MAX_FRAMES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_scratch);
} stack_scratch SEC(".maps");

struct frame_walk {
	__u64 found;
};

/*
 * frame_in_noaudit checks one return address against the ranges. It runs
 * under bpf_loop, so the verifier checks it once instead of once per frame.
 */
static long frame_in_noaudit(__u64 i, struct frame_walk *w)
{
	__u32 zero = 0;
	struct stack_scratch *st = bpf_map_lookup_elem(&stack_scratch, &zero);
	struct config *cfg = bpf_map_lookup_elem(&config_map, &zero);
	if (!st || !cfg)
		return 1;
	__u64 ip = st->frames[i & (MAX_FRAMES - 1)];
	__u32 nr = cfg->nranges;
	for (__u32 j = 0; j < MAX_RANGES; j++) {
		if (j >= nr)
			break;
		if (ip >= cfg->noaudit[j].start && ip < cfg->noaudit[j].end) {
			w->found = 1;
			return 1;
		}
	}
	return 0;
}

static __always_inline bool noaudit_by_stack(void *ctx)
{
	__u32 zero = 0;
	struct stack_scratch *st = bpf_map_lookup_elem(&stack_scratch, &zero);
	if (!st)
		return false;
	long n = bpf_get_stack(ctx, st->frames, sizeof(st->frames), 0);
	if (n <= 0)
		return false;
	struct frame_walk w = {};
	bpf_loop(n / 8, frame_in_noaudit, &w, 0);
	return w.found;
}

SEC("tp_btf/cap_capable")
int BPF_PROG(cap_btf, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	struct session_state *s;
	if (!tracked(&s))
		return 0;
	add_cap(cap, ret == 0, noaudit_by_stack(ctx));
	return 0;
}

SEC("raw_tp/cap_capable")
int BPF_PROG(cap_raw, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	struct session_state *s;
	if (!tracked(&s))
		return 0;
	add_cap(cap, ret == 0, noaudit_by_stack(ctx));
	return 0;
}


/* An empty syscall hook: the baseline of the syscall-tax benchmark. */
SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter_empty)
{
	return 0;
}
