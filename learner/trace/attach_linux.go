package trace

// Attaching a session to tasks that already run (leash learn --pid and
// --cgroup). Launch mode starts tracking at an execve the tracer waits for;
// here the tasks exist, so userspace finds them in /proc and registers each
// one through the attach_task program (BPF_PROG_RUN), which updates the
// tracked-task table, its bitmap and the session's counters atomically
// against the hooks. From then on the fork hook follows new threads and
// children as in launch mode. A tree is scanned until a pass finds nothing
// new: a task forked before its parent was registered is visible in /proc
// by then, and one forked after is followed by the kernel, so nothing
// slips between the two. A cgroup is watched in the kernel as well (an
// untracked task that execs inside it joins the session; see `watched` in
// bpf/leash.bpf.c) and rescanned by the caller for processes moved in that
// never exec.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/bpf"
)

// Results of attach_task (enum attach_result in bpf/leash.bpf.c).
const (
	attachAdded   = 1
	attachKnown   = 2
	attachClosed  = 3
	attachFull    = 4
	attachRemoved = 5
	attachAbsent  = 6
)

// Flags of attach_task (enum attach_flag).
const (
	attachFProcess = 1 << 0
	attachFDetach  = 1 << 1
)

// userExeIDs hands out executable ids for the executables of attached
// processes; the kernel's own ids count up from 1 and never get here.
var userExeIDs atomic.Uint32

func init() { userExeIDs.Store(1 << 31) }

// Process is one process registered by an attach.
type Process struct {
	Pid  int
	Comm string // /proc/PID/comm
	Exe  string // /proc/PID/exe
	// Seccomp is the Seccomp: field of /proc/PID/status: 0 none, 1 strict,
	// 2 filter. Syscalls a filter rejects never reach the syscall hook.
	Seccomp int
	// Late: the process ran before it was registered (its earlier syscalls
	// are not recorded). False when the kernel already tracked it (it was
	// forked by, or exec'd under, a tracked task).
	Late bool
}

// Filter decides which processes an attach leaves out, and whether their
// descendants go with them.
type Filter func(pid int) bool

// attachProgram loads attach_task on first use.
func (t *Tracer) attachProgram() (*ebpf.Program, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errors.New("attach: tracer is closed")
	}
	if t.attachProg != nil {
		return t.attachProg, nil
	}
	spec, err := bpf.LoadLeash()
	if err != nil {
		return nil, fmt.Errorf("load BPF spec: %w", err)
	}
	p, err := t.loadProgram(spec, bpf.LeashProgAttachTask)
	if err != nil {
		return nil, &EnvError{Msg: fmt.Sprintf("attaching to running processes needs BPF syscall programs (Linux 5.14+): load %s: %v", bpf.LeashProgAttachTask, shortErr(err))}
	}
	t.progs = append(t.progs, p)
	t.attachProg = p
	return p, nil
}

// runAttach runs attach_task for one task.
func (s *Session) runAttach(req bpf.LeashAttachReq) (uint32, error) {
	prog, err := s.t.attachProgram()
	if err != nil {
		return 0, err
	}
	ret, err := prog.Run(&ebpf.RunOptions{Context: req})
	if err != nil {
		return 0, fmt.Errorf("register task %d: %w", req.Tid, err)
	}
	return ret, nil
}

// errClosed says the session closed under an attach.
var errClosed = errors.New("session is closed")

// AttachProcess registers every thread of the running process tgid in the
// session. It reports whether the process was new to the session (false:
// the kernel already followed it) and whether it exists at all.
func (s *Session) AttachProcess(tgid int) (p Process, added bool, err error) {
	p = Process{Pid: tgid}
	p.Comm, p.Exe, p.Seccomp = processInfo(tgid)
	exeID := userExeIDs.Add(1)
	registered := false
	tids, err := threads(tgid)
	if err != nil {
		return p, false, err
	}
	for _, tid := range tids {
		flags := uint32(0)
		if tid == tgid {
			flags = attachFProcess
		}
		ret, err := s.runAttach(bpf.LeashAttachReq{Tid: uint32(tid), Session: s.id, ExeId: exeID, Flags: flags})
		if err != nil {
			return p, added, err
		}
		switch ret {
		case attachAdded:
			registered = true
			if exiting(tgid, tid) {
				// It exited before it was registered: the exit hook
				// missed it, so undo, or it would count as live forever.
				if _, err := s.runAttach(bpf.LeashAttachReq{Tid: uint32(tid), Session: s.id, Flags: attachFDetach}); err != nil {
					return p, added, err
				}
				continue
			}
			if tid == tgid {
				added = true
			}
		case attachKnown:
		case attachClosed:
			return p, added, fmt.Errorf("register process %d: %w", tgid, errClosed)
		case attachFull:
			// The kernel marked the session incomplete; go on with the
			// other threads, the table may drain.
		default:
			return p, added, fmt.Errorf("register task %d: unexpected result %d", tid, ret)
		}
	}
	if registered && p.Exe != "" {
		// The identity of the file it runs: /proc/PID/exe leads to it
		// even when its path was replaced since.
		var id FileID
		var st unix.Stat_t
		if err := unix.Stat(fmt.Sprintf("/proc/%d/exe", tgid), &st); err == nil {
			id = StatID(&st)
		}
		s.t.mu.Lock()
		s.t.exes[exeID] = exeEntry{session: s.id, path: p.Exe, id: id}
		s.t.mu.Unlock()
	}
	p.Late = added
	return p, added, nil
}

// AttachTree registers pid, its threads, and all its descendants with
// their threads, until a scan of /proc finds nothing new. skip leaves a
// process and everything below it out (leash itself). It returns the
// processes this call registered (the kernel followed the others), root
// first.
func (s *Session) AttachTree(pid int, skip Filter) ([]Process, error) {
	var out []Process
	seen := map[int]bool{}
	for pass := 0; ; pass++ {
		tree, err := descendants(pid, skip)
		if err != nil {
			return out, err
		}
		if pass == 0 && len(tree) == 0 {
			return nil, fmt.Errorf("attach to pid %d: %w", pid, os.ErrNotExist)
		}
		news := 0
		for _, p := range tree {
			if seen[p] {
				continue
			}
			seen[p] = true
			news++
			proc, added, err := s.AttachProcess(p)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					continue // gone meanwhile
				}
				return out, err
			}
			if added {
				out = append(out, proc)
			}
		}
		if news == 0 {
			return out, nil
		}
	}
}

// WatchCgroup makes every untracked task that execs inside the cgroup v2
// directory dir (or below it) join the session at that execve.
func (s *Session) WatchCgroup(dir string) error {
	id, err := CgroupID(dir)
	if err != nil {
		return err
	}
	if err := s.t.maps.Watched.Update(id, s.id, ebpf.UpdateNoExist); err != nil {
		return fmt.Errorf("watch cgroup %s: %w", dir, err)
	}
	return nil
}

// Unwatch forgets the cgroups the session watches.
func (s *Session) Unwatch() error {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	return s.unwatchLocked()
}

// unwatchLocked forgets the session's watched cgroups (t.mu held).
func (s *Session) unwatchLocked() error {
	var id uint64
	var sid uint32
	var ids []uint64
	it := s.t.maps.Watched.Iterate()
	for it.Next(&id, &sid) {
		if sid == s.id {
			ids = append(ids, id)
		}
	}
	var errs []error
	for _, k := range ids {
		if err := s.t.maps.Watched.Delete(k); err != nil {
			errs = append(errs, fmt.Errorf("unwatch cgroup %d: %w", k, err))
		}
	}
	return errors.Join(errs...)
}

// CgroupID is the id the kernel gives the cgroup v2 directory dir (what
// bpf_get_current_cgroup_id returns): its inode number on cgroup2fs.
func CgroupID(dir string) (uint64, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return 0, fmt.Errorf("cgroup %s: %w", dir, err)
	}
	if fs.Type != unix.CGROUP2_SUPER_MAGIC {
		return 0, fmt.Errorf("cgroup %s: %w", dir, ErrNotCgroup2)
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, fmt.Errorf("cgroup %s: %w", dir, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return 0, fmt.Errorf("cgroup %s: %w", dir, ErrNotCgroup2)
	}
	return st.Ino, nil
}

// ErrNotCgroup2 says a path is not a directory of a cgroup v2 hierarchy.
var ErrNotCgroup2 = errors.New("not a cgroup v2 directory")

// CgroupProcs lists the processes in the cgroup dir and its descendants.
func CgroupProcs(dir string) ([]int, error) {
	var out []int
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if path != dir && errors.Is(err, os.ErrNotExist) {
				return nil // a child cgroup removed meanwhile
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
		if err != nil {
			if path != dir && errors.Is(err, os.ErrNotExist) {
				return filepath.SkipDir
			}
			return err
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list processes of cgroup %s: %w", dir, err)
	}
	return out, nil
}

// threads lists the tids of process tgid.
func threads(tgid int) ([]int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", tgid))
	if err != nil {
		return nil, fmt.Errorf("list threads of %d: %w", tgid, err)
	}
	// The leader first, so a process counts once even if it races.
	out := []int{tgid}
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && n != tgid {
			out = append(out, n)
		}
	}
	return out, nil
}

// exiting reports whether task tid of tgid has begun to exit (PF_EXITING:
// set before the exit hook runs) or is gone. A task that is not exiting
// after it was registered is sure to be seen by the exit hook.
func exiting(tgid, tid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", tgid, tid))
	if err != nil {
		return true
	}
	f := statFields(b)
	if len(f) < 7 {
		return true
	}
	if f[0] == "Z" || f[0] == "X" || f[0] == "x" {
		return true
	}
	flags, err := strconv.ParseUint(f[6], 10, 64)
	const pfExiting = 0x4
	return err != nil || flags&pfExiting != 0
}

// statFields splits /proc/.../stat after the command name: field 3 (state)
// comes first.
func statFields(b []byte) []string {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// processInfo reads what a reviewer wants to know about a process.
func processInfo(pid int) (comm, exe string, seccomp int) {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil {
		comm = strings.TrimSpace(string(b))
	}
	exe, _ = os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	seccomp, _ = SeccompMode(pid)
	return comm, exe, seccomp
}

// SeccompMode is the Seccomp: field of /proc/PID/status.
func SeccompMode(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Seccomp:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, sc.Err()
}

// descendants lists pid and every process below it (by parent pid), less
// what skip leaves out; nil when pid does not exist.
func descendants(pid int, skip Filter) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	children := map[int][]int{}
	exists := false
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p == pid {
			exists = true
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := statFields(b)
		if len(f) < 2 {
			continue
		}
		if f[0] == "Z" || f[0] == "X" {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			children[pp] = append(children[pp], p)
		}
	}
	if !exists {
		return nil, nil
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if skip != nil && skip(p) {
			continue
		}
		out = append(out, p)
		queue = append(queue, children[p]...)
	}
	return out, nil
}
