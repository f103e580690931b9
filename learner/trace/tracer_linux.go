package trace

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/leash-project/leash/bpf"
)

// MaxSessions is how many sessions one Tracer runs at once.
const MaxSessions = 255

// Method keys of Tracer.Methods.
const (
	MethodSyscalls     = "syscalls"
	MethodCapabilities = "capabilities"
	MethodProcesses    = "processes"
)

// Options tune Open.
type Options struct {
	// SelfExe is leash's own binary: a tracked process that execs it leaves
	// tracking (a nested leash learns its own profile). Default
	// /proc/self/exe; "-" disables the check. Any other leash binary is
	// told apart when its tracer opens: Open announces itself first (see
	// announceNested).
	SelfExe string
	// Kallsyms is read for the noaudit ranges. Default /proc/kallsyms.
	Kallsyms string
	// BTF is checked for existence. Default /sys/kernel/btf/vmlinux.
	BTF string
	// Skip names methods not to try (as Methods reports them, e.g.
	// "tp_btf/sys_enter"), to exercise the fallbacks.
	Skip []string
}

// Tracer is the loaded and attached recorder.
type Tracer struct {
	maps     bpf.LeashMaps
	progs    []*ebpf.Program
	links    []link.Link
	methods  map[string]string
	warnings []string
	notes    []string

	mu       sync.Mutex
	used     [MaxSessions + 1]bool
	exes     map[uint32]exeEntry // drained from the kernel's exes map
	gen      uint64              // last session generation handed out
	cache    *btf.Cache          // kernel BTF, decoded once for all loads
	closed   bool
	capsOK   bool
	closeErr error

	// attachProg is attach_task, loaded on first attach (attach_linux.go).
	attachProg *ebpf.Program
}

type exeEntry struct {
	session uint32
	path    string
	flags   uint32
	id      FileID
}

// Open checks the host, loads the recorder, and attaches it.
func Open(opts Options) (*Tracer, error) {
	if opts.SelfExe == "" {
		opts.SelfExe = "/proc/self/exe"
	}
	if opts.Kallsyms == "" {
		opts.Kallsyms = "/proc/kallsyms"
	}
	if opts.BTF == "" {
		opts.BTF = "/sys/kernel/btf/vmlinux"
	}
	// Before anything else that an enclosing leash learn would record.
	announceNested()
	if err := checkPrivileges(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(opts.BTF); err != nil {
		return nil, &EnvError{Msg: fmt.Sprintf("no kernel BTF at %s: leash needs a kernel built with CONFIG_DEBUG_INFO_BTF", opts.BTF)}
	}
	raiseMemlock()

	spec, err := bpf.LoadLeash()
	if err != nil {
		return nil, fmt.Errorf("load BPF spec: %w", err)
	}
	t := &Tracer{methods: map[string]string{}, exes: map[uint32]exeEntry{}}
	if err := spec.LoadAndAssign(&t.maps, nil); err != nil {
		return nil, fmt.Errorf("create BPF maps: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			t.Close()
		}
	}()
	cfg, err := selfConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := t.maps.ConfigMap.Put(uint32(0), &cfg); err != nil {
		return nil, fmt.Errorf("write BPF config: %w", err)
	}
	rangesc := make(chan rangesResult, 1)
	go func() { rangesc <- readRanges(opts.Kallsyms) }()
	rangesRead := false
	defer func() {
		if !rangesRead {
			<-rangesc
		}
	}()

	load := func(name string) (*ebpf.Program, error) { return t.loadProgram(spec, name) }

	// The process tree first: a session must never see syscalls of a task
	// whose exit it would miss.
	var tried []string
	for _, h := range []struct{ method, fork, exec, exit string }{
		{"tp_btf/sched_process_{fork,exec,exit}", bpf.LeashProgForkBtf, bpf.LeashProgExecBtf, bpf.LeashProgExitBtf},
		{"raw_tp/sched_process_{fork,exec,exit}", bpf.LeashProgForkRaw, bpf.LeashProgExecRaw, bpf.LeashProgExitRaw},
	} {
		if slices.Contains(opts.Skip, h.method) {
			tried = append(tried, h.method+": skipped")
			continue
		}
		err := t.attachAll(load, []string{h.fork, h.exec, h.exit}, []string{"sched_process_fork", "sched_process_exec", "sched_process_exit"})
		if err == nil {
			t.methods[MethodProcesses] = h.method
			break
		}
		tried = append(tried, fmt.Sprintf("%s: %v", h.method, err))
	}
	if t.methods[MethodProcesses] == "" {
		return nil, &EnvError{Msg: "no process-tracking hook loads; tried " + joinTried(tried)}
	}

	tried = nil
	for _, h := range []struct{ method, prog, tp string }{
		{"tp_btf/sys_enter", bpf.LeashProgSysEnterBtf, "sys_enter"},
		{"raw_tp/sys_enter", bpf.LeashProgSysEnterRaw, "sys_enter"},
		{"tracepoint/raw_syscalls/sys_enter", bpf.LeashProgSysEnterTp, ""},
	} {
		if slices.Contains(opts.Skip, h.method) {
			tried = append(tried, h.method+": skipped")
			continue
		}
		err := t.attachAll(load, []string{h.prog}, []string{h.tp})
		if err == nil {
			t.methods[MethodSyscalls] = h.method
			break
		}
		tried = append(tried, fmt.Sprintf("%s: %v", h.method, err))
	}
	if t.methods[MethodSyscalls] == "" {
		return nil, &EnvError{Msg: "no syscall hook loads; tried " + joinTried(tried)}
	}
	if len(tried) > 0 {
		t.notes = append(t.notes, fmt.Sprintf("syscalls via %s (not loadable here: %s)", t.methods[MethodSyscalls], joinTried(tried)))
	}
	rangesRead = true
	if err := t.configure(cfg, <-rangesc); err != nil {
		return nil, err
	}
	tried = nil
	for _, h := range []struct{ method, prog, tp string }{
		{"fexit/cap_capable", bpf.LeashProgCapFexit, ""},
		{"tp_btf/cap_capable+stack", bpf.LeashProgCapBtf, "cap_capable"},
		{"raw_tp/cap_capable+stack", bpf.LeashProgCapRaw, "cap_capable"},
	} {
		if slices.Contains(opts.Skip, h.method) {
			tried = append(tried, h.method+": skipped")
			continue
		}
		if h.tp != "" && !t.capsOK {
			tried = append(tried, h.method+" (no noaudit ranges)")
			continue
		}
		err := t.attachAll(load, []string{h.prog}, []string{h.tp})
		if err == nil {
			t.methods[MethodCapabilities] = h.method
			break
		}
		tried = append(tried, fmt.Sprintf("%s: %v", h.method, err))
	}
	if t.methods[MethodCapabilities] == "" {
		t.methods[MethodCapabilities] = "none"
		t.warnings = append(t.warnings, "capability checks are not recorded: no hook loads; tried "+joinTried(tried))
	} else if len(tried) > 0 {
		t.notes = append(t.notes, fmt.Sprintf("capability checks via %s (not loadable here: %s)",
			t.methods[MethodCapabilities], joinTried(tried)))
	}
	ok = true
	return t, nil
}

func joinTried(tried []string) string {
	s := ""
	for i, t := range tried {
		if i > 0 {
			s += "; "
		}
		s += t
	}
	return s
}

// attachAll loads and attaches progs to tracepoints tps (raw tracepoint
// names; "" for fexit and classic tracepoint programs), all or none.
func (t *Tracer) attachAll(load func(string) (*ebpf.Program, error), progs, tps []string) error {
	var ps []*ebpf.Program
	var ls []link.Link
	fail := func(err error) error {
		for _, l := range ls {
			l.Close()
		}
		for _, p := range ps {
			p.Close()
		}
		return err
	}
	for i, name := range progs {
		p, err := load(name)
		if err != nil {
			return fail(fmt.Errorf("load %s: %w", name, shortErr(err)))
		}
		ps = append(ps, p)
		var l link.Link
		switch p.Type() {
		case ebpf.Tracing:
			l, err = link.AttachTracing(link.TracingOptions{Program: p})
		case ebpf.RawTracepoint:
			l, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: tps[i], Program: p})
		case ebpf.TracePoint:
			l, err = link.Tracepoint("raw_syscalls", "sys_enter", p, nil)
		default:
			err = fmt.Errorf("unexpected program type %v", p.Type())
		}
		if err != nil {
			return fail(fmt.Errorf("attach %s: %w", name, shortErr(err)))
		}
		ls = append(ls, l)
	}
	t.progs = append(t.progs, ps...)
	t.links = append(t.links, ls...)
	return nil
}

// loadProgram loads one program of spec against the tracer's maps.
func (t *Tracer) loadProgram(spec *ebpf.CollectionSpec, name string) (*ebpf.Program, error) {
	ps, ok := spec.Programs[name]
	if !ok {
		return nil, fmt.Errorf("no BPF program %s", name)
	}
	cs := spec.Copy()
	cs.Programs = map[string]*ebpf.ProgramSpec{name: ps}
	if t.cache == nil {
		t.cache = btf.NewCache()
	}
	coll, err := ebpf.NewCollectionWithOptions(cs, ebpf.CollectionOptions{MapReplacements: mapsByName(&t.maps), Cache: t.cache})
	if err != nil {
		return nil, err
	}
	prog := coll.DetachProgram(name)
	coll.Close()
	return prog, nil
}

// mapsByName lists the maps of a bpf2go maps struct by their ELF names.
func mapsByName(maps *bpf.LeashMaps) map[string]*ebpf.Map {
	out := map[string]*ebpf.Map{}
	v := reflect.ValueOf(maps).Elem()
	for i := 0; i < v.NumField(); i++ {
		if name := v.Type().Field(i).Tag.Get("ebpf"); name != "" {
			if m, ok := v.Field(i).Interface().(*ebpf.Map); ok && m != nil {
				out[name] = m
			}
		}
	}
	return out
}

// shortErr keeps the first line of a verifier error.
func shortErr(err error) error {
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return ve.Cause
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

// nestCmd is LEASH_NEST_CMD of bpf/leash.bpf.c: a bpf(2) command no
// kernel has, with which a tracer announces itself.
const nestCmd = 0x6c656173

// Flags of struct exe (EXE_F_* of bpf/leash.bpf.c).
const (
	exeFTruncated = 1 << 0
	exeFHandoff   = 1 << 1
	exeFNoID      = 1 << 2
)

// Kinds of handoff (enum handoff_kind).
const (
	handoffLeash   = 1
	handoffForeign = 2
)

// announceNested tells a leash learn that may be recording this process
// (any leash binary, not only its own) that this process is a leash
// tracer: its recorder stops recording the process and following its
// children, which this tracer learns into profiles of their own. The
// kernel rejects the command (EINVAL); only the recorders' syscall hooks
// look at it. It must come before the first real BPF call.
func announceNested() {
	_, _, _ = unix.Syscall(unix.SYS_BPF, nestCmd, 0, 0)
}

// configure fills the config map: leash's own inode and the noaudit ranges.
// selfConfig is the config with leash's own binary filled in.
func selfConfig(opts Options) (bpf.LeashConfig, error) {
	var cfg bpf.LeashConfig
	if opts.SelfExe != "-" {
		var st unix.Stat_t
		if err := unix.Stat(opts.SelfExe, &st); err != nil {
			return cfg, fmt.Errorf("stat own binary %s: %w", opts.SelfExe, err)
		}
		cfg.SelfIno = st.Ino
		// The kernel's s_dev encodes major<<20 | minor.
		cfg.SelfDev = unix.Major(st.Dev)<<20 | unix.Minor(st.Dev)
	}
	return cfg, nil
}

type rangesResult struct {
	ranges []Range
	warn   string
}

// readRanges reads the noaudit ranges from kallsyms. The kernel takes tens
// of milliseconds to produce /proc/kallsyms, so Open runs it beside the
// program loads.
func readRanges(path string) rangesResult {
	// Streamed: /proc/kallsyms is some 5 MB of text that reports size 0,
	// which os.ReadFile would read by doubling a buffer, a third of leash
	// learn's start-up on a VM where each fresh page costs a fault.
	f, err := os.Open(path)
	if err != nil {
		return rangesResult{warn: fmt.Sprintf("read kallsyms: %v", err)}
	}
	defer f.Close()
	ranges, err := KallsymsRanges(f, NoauditFuncs)
	res := rangesResult{ranges: mergeRanges(ranges)}
	if err != nil {
		res.warn = err.Error()
	}
	return res
}

// configure writes the noaudit ranges into the config map.
func (t *Tracer) configure(cfg bpf.LeashConfig, rr rangesResult) error {
	if rr.warn != "" {
		t.warnings = append(t.warnings, rr.warn)
	}
	if len(rr.ranges) > len(cfg.Noaudit) {
		return fmt.Errorf("configure noaudit ranges: %d ranges, room for %d", len(rr.ranges), len(cfg.Noaudit))
	}
	for i, r := range rr.ranges {
		cfg.Noaudit[i] = bpf.LeashRange{Start: r.Start, End: r.End}
	}
	cfg.Nranges = uint32(len(rr.ranges))
	t.capsOK = len(rr.ranges) > 0
	if err := t.maps.ConfigMap.Put(uint32(0), &cfg); err != nil {
		return fmt.Errorf("write BPF config: %w", err)
	}
	return nil
}

func checkPrivileges() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("read own capabilities: %w", err)
	}
	has := func(c uint) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	const capSysAdmin, capPerfmon, capBPF = 21, 38, 39
	var missing []string
	if !has(capBPF) && !has(capSysAdmin) {
		missing = append(missing, "CAP_BPF")
	}
	if !has(capPerfmon) && !has(capSysAdmin) {
		missing = append(missing, "CAP_PERFMON")
	}
	if len(missing) > 0 {
		return &EnvError{Msg: fmt.Sprintf("leash learn must run as root with CAP_BPF and CAP_PERFMON effective (missing %v)", missing)}
	}
	return nil
}

// Methods says which hook records what (keys MethodSyscalls,
// MethodCapabilities, MethodProcesses).
func (t *Tracer) Methods() map[string]string {
	out := map[string]string{}
	for k, v := range t.methods {
		out[k] = v
	}
	return out
}

// CapabilitiesRecorded reports whether a capability hook is attached.
func (t *Tracer) CapabilitiesRecorded() bool { return t.methods[MethodCapabilities] != "none" }

// Warnings are problems found at Open that do not stop learning.
func (t *Tracer) Warnings() []string { return append([]string(nil), t.warnings...) }

// Describe says which hook records what, and which fallbacks were taken
// and why, as lines for the user: detection happens at Open, and a
// reviewer of the run's output should not have to open the profile to
// learn that a fallback was taken.
func (t *Tracer) Describe() []string {
	out := []string{fmt.Sprintf("hooks in use: syscalls %s, capability checks %s, processes %s",
		t.methods[MethodSyscalls], t.methods[MethodCapabilities], t.methods[MethodProcesses])}
	for _, n := range t.notes {
		out = append(out, "note: "+n)
	}
	return out
}

// Notes say which fallbacks were taken and why (hooks this kernel refused),
// for a verbose log; Methods names the hooks in use.
func (t *Tracer) Notes() []string { return append([]string(nil), t.notes...) }

// Close detaches and unloads everything. Sessions must be closed first.
func (t *Tracer) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return t.closeErr
	}
	t.closed = true
	var errs []error
	for _, l := range t.links {
		errs = append(errs, l.Close())
	}
	for _, p := range t.progs {
		errs = append(errs, p.Close())
	}
	errs = append(errs, t.maps.Close())
	t.closeErr = errors.Join(errs...)
	return t.closeErr
}

// Session is one learning session: one process tree, one profile.
type Session struct {
	t      *Tracer
	id     uint32
	closed bool
	missed uint64 // the hooks' skipped runs when the session began
}

// missedLocked is how many runs the kernel skipped, over all of the
// tracer's programs, since they were loaded: a program is skipped on a CPU
// where it is already running (BPF's recursion guard), and an event it
// would have seen is then not recorded. The kernel counts these whether or
// not BPF statistics are enabled.
func (t *Tracer) missedLocked() uint64 {
	var n uint64
	for _, p := range t.progs {
		if st, err := p.Stats(); err == nil {
			n += st.RecursionMisses
		}
	}
	return n
}

// NewSession reserves a session slot.
func (t *Tracer) NewSession() (*Session, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errors.New("new session: tracer is closed")
	}
	for id := uint32(1); id <= MaxSessions; id++ {
		if t.used[id] {
			continue
		}
		// A new generation: tasks left over from an earlier session in
		// this slot never match it.
		t.gen++
		if err := t.maps.Sessions.Put(id, &bpf.LeashSessionState{Gen: t.gen}); err != nil {
			return nil, fmt.Errorf("reset session %d: %w", id, err)
		}
		t.used[id] = true
		return &Session{t: t, id: id, missed: t.missedLocked()}, nil
	}
	return nil, fmt.Errorf("new session: all %d session slots in use", MaxSessions)
}

// ID is the session's number in the kernel maps.
func (s *Session) ID() uint32 { return s.id }

// Track makes the process tgid part of the session from its next execve
// on. Call it while the process is blocked before execve (the learn stub
// waits on a pipe): its execve is then the first thing recorded.
func (s *Session) Track(tgid int) error {
	if err := s.t.maps.Pending.Update(uint32(tgid), s.id, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("track pid %d: %w", tgid, err)
	}
	return nil
}

// Untrack forgets a pending tgid that will not exec (its start failed).
func (s *Session) Untrack(tgid int) {
	_ = s.t.maps.Pending.Delete(uint32(tgid))
}

func (s *Session) state() (bpf.LeashSessionState, error) {
	var st bpf.LeashSessionState
	if err := s.t.maps.Sessions.Lookup(s.id, &st); err != nil {
		return st, fmt.Errorf("read session %d: %w", s.id, err)
	}
	return st, nil
}

// Live is the number of the session's tasks (threads included) alive now.
func (s *Session) Live() (uint64, error) {
	st, err := s.state()
	return st.Live, err
}

// Stats summarises the session cheaply, for a status line.
func (s *Session) Stats() (Stats, error) {
	st, err := s.state()
	if err != nil {
		return Stats{}, err
	}
	out := Stats{Live: st.Live, Processes: st.Processes}
	for i := range st.Native {
		out.Syscalls += bits.OnesCount64(st.Native[i]) + bits.OnesCount64(st.Compat[i])
	}
	caps := map[uint32]bool{}
	var ck bpf.LeashCapKey
	var cv bpf.LeashCapVal
	it := s.t.maps.Caps.Iterate()
	for it.Next(&ck, &cv) {
		if ck.Session == s.id {
			caps[ck.Cap] = true
		}
	}
	fams := map[uint16]bool{}
	var fk bpf.LeashFamKey
	var fv bpf.LeashFamVal
	it = s.t.maps.Families.Iterate()
	for it.Next(&fk, &fv) {
		if fk.Session == s.id {
			fams[fk.Family] = true
		}
	}
	out.Capabilities, out.Families = len(caps), len(fams)
	return out, nil
}

// Drain moves exec'd paths from the kernel's bounded exes table into
// memory. Call it now and then during long sessions (the learn command
// does, with its status tick) so that table never fills.
func (t *Tracer) Drain() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.drainLocked()
}

func (t *Tracer) drainLocked() error {
	var id uint32
	var e bpf.LeashExe
	var keys []uint32
	it := t.maps.Exes.Iterate()
	for it.Next(&id, &e) {
		n := 0
		for n < len(e.Path) && e.Path[n] != 0 {
			n++
		}
		ent := exeEntry{session: e.Session, path: exePath(string(e.Path[:n]), e.Flags), flags: e.Flags}
		if e.Flags&exeFNoID == 0 {
			ent.id = FileID{Dev: e.Dev, Ino: e.Ino, CtimeSec: e.CtimeSec, CtimeNsec: e.CtimeNsec}
		}
		t.exes[id] = ent
		keys = append(keys, id)
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read exes: %w", err)
	}
	for _, k := range keys {
		_ = t.maps.Exes.Delete(k)
	}
	return nil
}

// exePath is the name of an executable as the exec hook resolved it (see
// struct exe in bpf/leash.bpf.c): absolute, with "." and ".." left in
// when execve was given a relative name. Those are cleaned away unless a
// symbolic link makes the cleaned path another file. A path the kernel
// could not fit is marked, so that no other file is hashed in its place.
func exePath(path string, flags uint32) string {
	if flags&exeFTruncated != 0 {
		return path + " (path too long to resolve)"
	}
	clean := filepath.Clean(path)
	if clean == path || !filepath.IsAbs(path) {
		return path
	}
	raw, err := os.Stat(path)
	if err != nil {
		return clean
	}
	if c, err := os.Stat(clean); err == nil && os.SameFile(raw, c) {
		return clean
	}
	return path
}

// Observations reads everything the session recorded so far.
func (s *Session) Observations() (*Observations, error) {
	t := s.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.drainLocked(); err != nil {
		return nil, err
	}
	st, err := s.state()
	if err != nil {
		return nil, err
	}
	exe := func(id uint32) string { return t.exes[id].path }
	obs := &Observations{
		NamespaceFlags: st.NsFlags,
		Processes:      st.Processes,
		Live:           st.Live,
		Incomplete:     IncompleteReasons(st.Incomplete),
	}
	if n := t.missedLocked() - s.missed; n > 0 {
		obs.Incomplete = append(obs.Incomplete, fmt.Sprintf("the kernel skipped %d runs of leash's hooks (a hook already running on that CPU) since this recording began: an event of it may be missing", n))
	}

	prov := map[bpf.LeashScKey]uint32{}
	var sk bpf.LeashScKey
	var sv uint32
	it := t.maps.ScProv.Iterate()
	for it.Next(&sk, &sv) {
		if sk.Session == s.id {
			prov[sk] = sv
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read syscall provenance: %w", err)
	}
	for abi, words := range map[uint16][8]uint64{0: st.Native, 1: st.Compat} {
		name := ABINative
		if abi == 1 {
			name = ABICompat
		}
		for w, word := range words {
			for word != 0 {
				b := bits.TrailingZeros64(word)
				word &^= 1 << b
				nr := w*64 + b
				obs.Syscalls = append(obs.Syscalls, SyscallObs{
					ABI: name, Nr: nr,
					Exe: exe(prov[bpf.LeashScKey{Session: s.id, Abi: abi, Nr: uint16(nr)}]),
				})
			}
		}
	}
	sort.Slice(obs.Syscalls, func(i, j int) bool {
		a, b := obs.Syscalls[i], obs.Syscalls[j]
		if a.ABI != b.ABI {
			return a.ABI > b.ABI // x86_64 before i386
		}
		return a.Nr < b.Nr
	})

	var ck bpf.LeashCapKey
	var cv bpf.LeashCapVal
	it = t.maps.Caps.Iterate()
	for it.Next(&ck, &cv) {
		if ck.Session == s.id {
			obs.Caps = append(obs.Caps, CapObs{Cap: int(ck.Cap), Noaudit: ck.Noaudit != 0, Granted: cv.Granted, Denied: cv.Denied, Exe: exe(cv.ExeId)})
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read capability checks: %w", err)
	}
	sort.Slice(obs.Caps, func(i, j int) bool {
		if obs.Caps[i].Cap != obs.Caps[j].Cap {
			return obs.Caps[i].Cap < obs.Caps[j].Cap
		}
		return !obs.Caps[i].Noaudit && obs.Caps[j].Noaudit
	})

	var fk bpf.LeashFamKey
	var fv bpf.LeashFamVal
	it = t.maps.Families.Iterate()
	for it.Next(&fk, &fv) {
		if fk.Session == s.id {
			obs.Families = append(obs.Families, FamilyObs{Family: int(fk.Family), Type: int(fk.Type), Protocol: int(fk.Protocol), Count: fv.Count, Exe: exe(fv.ExeId)})
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read socket families: %w", err)
	}
	sort.Slice(obs.Families, func(i, j int) bool {
		if obs.Families[i].Family != obs.Families[j].Family {
			return obs.Families[i].Family < obs.Families[j].Family
		}
		return obs.Families[i].Type < obs.Families[j].Type
	})

	obs.ExeFiles = t.exeFilesLocked(s.id)
	seen := map[string]bool{}
	for _, f := range obs.ExeFiles {
		if !seen[f.Path] {
			seen[f.Path] = true
			obs.Executables = append(obs.Executables, f.Path)
		}
	}

	var hk bpf.LeashHandoffKey
	var hv uint32
	seenHandoff := map[HandoffObs]bool{}
	it = t.maps.Handoffs.Iterate()
	for it.Next(&hk, &hv) {
		if hk.Session != s.id {
			continue
		}
		h := HandoffObs{Exe: exe(hk.ExeId), Leash: hv == handoffLeash}
		if !seenHandoff[h] {
			seenHandoff[h] = true
			obs.Handoffs = append(obs.Handoffs, h)
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read handoffs: %w", err)
	}
	sort.Slice(obs.Handoffs, func(i, j int) bool {
		a, b := obs.Handoffs[i], obs.Handoffs[j]
		if a.Exe != b.Exe {
			return a.Exe < b.Exe
		}
		return a.Leash && !b.Leash
	})
	return obs, nil
}

// Close stops recording the session and frees its slot and kernel entries.
// Tasks still alive are forgotten.
func (s *Session) Close() error {
	t := s.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	// Every entry of the session: the tasks and pending pids (the value
	// holds the session), what was recorded (the key does), nested
	// tracers that left it and still run, and its handoffs.
	deleteWhere(t.maps.Tasks, func(_ uint32, v bpf.LeashTaskInfo) bool { return v.Session == s.id })
	deleteWhere(t.maps.Pending, func(_ uint32, sid uint32) bool { return sid == s.id })
	deleteWhere(t.maps.ScProv, func(k bpf.LeashScKey, _ uint32) bool { return k.Session == s.id })
	deleteWhere(t.maps.Caps, func(k bpf.LeashCapKey, _ bpf.LeashCapVal) bool { return k.Session == s.id })
	deleteWhere(t.maps.Families, func(k bpf.LeashFamKey, _ bpf.LeashFamVal) bool { return k.Session == s.id })
	deleteWhere(t.maps.Nested, func(_ uint32, sid uint32) bool { return sid == s.id })
	deleteWhere(t.maps.Handoffs, func(k bpf.LeashHandoffKey, _ uint32) bool { return k.Session == s.id })
	errs = append(errs, s.unwatchLocked())
	if err := t.drainLocked(); err != nil {
		errs = append(errs, err)
	}
	for id, e := range t.exes {
		if e.session == s.id {
			delete(t.exes, id)
		}
	}
	if err := t.maps.Sessions.Put(s.id, &bpf.LeashSessionState{}); err != nil {
		errs = append(errs, fmt.Errorf("reset session %d: %w", s.id, err))
	}
	t.used[s.id] = false
	return errors.Join(errs...)
}

// EmptyHook is an attached sys_enter program that does nothing: the
// baseline against which benchmarks measure the recorder's syscall tax.
type EmptyHook struct {
	prog *ebpf.Program
	link link.Link
}

// AttachEmptyHook attaches the empty tp_btf/sys_enter program.
func AttachEmptyHook() (*EmptyHook, error) {
	spec, err := bpf.LoadLeash()
	if err != nil {
		return nil, fmt.Errorf("load BPF spec: %w", err)
	}
	cs := spec.Copy()
	cs.Programs = map[string]*ebpf.ProgramSpec{bpf.LeashProgSysEnterEmpty: spec.Programs[bpf.LeashProgSysEnterEmpty]}
	cs.Maps = map[string]*ebpf.MapSpec{}
	coll, err := ebpf.NewCollection(cs)
	if err != nil {
		return nil, fmt.Errorf("load empty hook: %w", err)
	}
	prog := coll.DetachProgram(bpf.LeashProgSysEnterEmpty)
	coll.Close()
	l, err := link.AttachTracing(link.TracingOptions{Program: prog})
	if err != nil {
		prog.Close()
		return nil, fmt.Errorf("attach empty hook: %w", err)
	}
	return &EmptyHook{prog: prog, link: l}, nil
}

// Close detaches the hook.
func (h *EmptyHook) Close() error { return errors.Join(h.link.Close(), h.prog.Close()) }

// raiseMemlock lifts RLIMIT_MEMLOCK to infinity when it is not already.
// Linux 5.11+ accounts BPF memory to the cgroup and ignores the rlimit; on
// older kernels it caps the maps. Failure is ignored: root may lack
// CAP_SYS_RESOURCE, and map creation then reports the real error. Done here
// rather than with cilium/ebpf/rlimit, whose package init probes the kernel
// (a prlimit and a BPF map) in every process that links it, leash run too.
func raiseMemlock() {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim); err != nil || lim.Cur == unix.RLIM_INFINITY {
		return
	}
	_ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY})
}

// StatID is the identity of the file st describes, as the exec hook reads
// it from the inode (see FileID).
func StatID(st *unix.Stat_t) FileID {
	return FileID{
		Dev:       unix.Major(st.Dev)<<20 | unix.Minor(st.Dev),
		Ino:       st.Ino,
		CtimeSec:  st.Ctim.Sec,
		CtimeNsec: uint32(st.Ctim.Nsec),
	}
}

// ExeFiles lists the files the session exec'd so far, as Observations
// does, without reading the rest of what it recorded.
func (s *Session) ExeFiles() ([]ExeFile, error) {
	t := s.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.drainLocked(); err != nil {
		return nil, err
	}
	return t.exeFilesLocked(s.id), nil
}

// exeFilesLocked lists the files session sid exec'd, in order of first
// exec, one per distinct path and identity, without the binaries of
// nested leash tracers (those are handoffs). Call it with t.mu held,
// after a drain.
func (t *Tracer) exeFilesLocked(sid uint32) []ExeFile {
	var ids []uint32
	for id, e := range t.exes {
		if e.session == sid && e.flags&exeFHandoff == 0 {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var out []ExeFile
	seen := map[ExeFile]bool{}
	for _, id := range ids {
		f := ExeFile{Path: t.exes[id].path, ID: t.exes[id].id}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// deleteWhere deletes the entries of m that match. Keys are collected
// first: deleting while iterating a hash map can skip entries.
func deleteWhere[K, V any](m *ebpf.Map, match func(K, V) bool) {
	var (
		k    K
		v    V
		keys []K
	)
	it := m.Iterate()
	for it.Next(&k, &v) {
		if match(k, v) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		_ = m.Delete(k)
	}
}
