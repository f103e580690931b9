package seccomp

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/net/bpf"

	"github.com/leash-project/leash/linux"
	"github.com/leash-project/leash/profiles"
)

// Options choose how a profile becomes a filter.
type Options struct {
	// Arch is the host's native ABI: x86_64 (the zero value) or arm64.
	Arch linux.Arch
	// DefaultAction overrides the profile's run.defaultAction: "errno"
	// (EPERM), "kill-process" or "log". Empty: the profile's.
	DefaultAction string
	// Complain turns every action that would deny (the default action,
	// failed argument rules, x32, a foreign ABI) into SECCOMP_RET_LOG. The
	// ENOSYS answers (clone3, syscalls newer than the table) stay: they are
	// compatibility, not denial.
	Complain bool
}

// Filter is a compiled seccomp filter.
type Filter struct {
	// Insns is the program, ready for Assemble.
	Insns []bpf.Instruction
	// Comments says what each instruction is for, index by index.
	Comments []string
	// Arch is the host ABI the filter was built for.
	Arch linux.Arch
	// DefaultAction is the SECCOMP_RET_* value for syscalls outside the
	// profile.
	DefaultAction uint32
	// Syscalls lists every syscall number the filter does not simply deny,
	// by ABI and number, with the reason it is there.
	Syscalls []Entry
	// Widened names the widenings applied.
	Widened []string

	pol *policy
}

// Entry is one syscall the filter allows, checks or answers ENOSYS.
type Entry struct {
	ABI    linux.Arch `json:"abi"`
	Nr     int        `json:"nr"`
	Name   string     `json:"name"`
	Action string     `json:"action"` // allow, enosys, args: ...
	Reason string     `json:"reason"`
}

// maxInsns is BPF_MAXINSNS: the kernel refuses longer classic programs.
const maxInsns = 4096

// Compile turns a profile into a seccomp filter. The profile should have
// been validated (profiles.Load does); Compile still rejects names it
// cannot number. Errors from bad opts match ErrOptions.
func Compile(p *profiles.Profile, opts Options) (*Filter, error) {
	pol, err := resolve(p, opts)
	if err != nil {
		return nil, err
	}
	g := &gen{pol: pol}
	g.program()
	insns, comments, err := g.assemble()
	if err != nil {
		return nil, fmt.Errorf("compile filter: %w", err)
	}
	if len(insns) > maxInsns {
		return nil, fmt.Errorf("compile filter: %d instructions, more than the kernel's %d", len(insns), maxInsns)
	}
	f := &Filter{
		Insns:         insns,
		Comments:      comments,
		Arch:          pol.host,
		DefaultAction: pol.deny,
		Widened:       pol.widened,
		pol:           pol,
	}
	for _, a := range []*abiPolicy{pol.native, pol.compat} {
		if a == nil {
			continue
		}
		nrs := make([]int, 0, len(a.rules))
		for nr := range a.rules {
			nrs = append(nrs, nr)
		}
		sort.Ints(nrs)
		for _, nr := range nrs {
			r := a.rules[nr]
			f.Syscalls = append(f.Syscalls, Entry{ABI: a.arch, Nr: nr, Name: r.name, Action: pol.ruleText(r), Reason: r.reason})
		}
	}
	return f, nil
}

// Assemble returns the program as raw instructions for
// SECCOMP_SET_MODE_FILTER.
func (f *Filter) Assemble() ([]bpf.RawInstruction, error) {
	raw, err := bpf.Assemble(f.Insns)
	if err != nil {
		return nil, fmt.Errorf("assemble filter: %w", err)
	}
	return raw, nil
}

// Bytes returns the program as an array of struct sock_filter in the
// host's byte order (little-endian: x86_64 and arm64), as bubblewrap's
// --seccomp FD and SECCOMP_SET_MODE_FILTER read it.
func (f *Filter) Bytes() ([]byte, error) {
	raw, err := f.Assemble()
	if err != nil {
		return nil, err
	}
	return rawBytes(raw), nil
}

func rawBytes(raw []bpf.RawInstruction) []byte {
	b := make([]byte, 0, 8*len(raw))
	for _, r := range raw {
		b = binary.LittleEndian.AppendUint16(b, r.Op)
		b = append(b, r.Jt, r.Jf)
		b = binary.LittleEndian.AppendUint32(b, r.K)
	}
	return b
}

// insn is one instruction before jump offsets are known. Jumps name their
// targets; assemble turns them into offsets, inserting long jumps where a
// conditional jump is farther than 255 instructions.
type insn struct {
	op      bpf.Instruction // for jumps: the condition and K; skips are filled in
	jt, jf  *insn           // conditional jump targets (nil: the next insn)
	ja      *insn           // unconditional jump target
	comment string
}

type gen struct {
	pol  *policy
	list []*insn
}

func (g *gen) emit(op bpf.Instruction, comment string) *insn {
	i := &insn{op: op, comment: comment}
	g.list = append(g.list, i)
	return i
}

func (g *gen) jump(cond bpf.JumpTest, k uint32, comment string) *insn {
	return g.emit(bpf.JumpIf{Cond: cond, Val: k}, comment)
}

func (g *gen) ret(v uint32, comment string) *insn {
	if comment == "" {
		comment = ActionName(v)
	} else {
		comment = ActionName(v) + ": " + comment
	}
	return g.emit(bpf.RetConstant{Val: v}, comment)
}

func (g *gen) load(off uint32, comment string) *insn {
	return g.emit(bpf.LoadAbsolute{Off: off, Size: 4}, comment)
}

// program lays out the whole filter: the architecture check, the x32
// guard, then one search tree per allowed ABI.
func (g *gen) program() {
	pol := g.pol
	g.load(offArch, "A = seccomp_data.arch")
	native := g.jump(bpf.JumpEqual, pol.host.AuditArch(), "AUDIT_ARCH_"+auditName(pol.host)+": native ABI")
	var compat *insn
	if pol.host == linux.X86_64 {
		compat = g.jump(bpf.JumpEqual, linux.AuditArchI386, "AUDIT_ARCH_I386: compat ABI")
	}
	g.ret(pol.badArch, "unknown architecture")
	var compatDeny *insn
	if compat != nil && pol.compat == nil {
		compatDeny = g.ret(pol.abiDeny, "i386 ABI: the profile learned no i386 syscall")
		compat.jt = compatDeny
	}
	native.jt = g.abi(pol.native)
	if pol.compat != nil {
		compat.jt = g.abi(pol.compat)
	}
}

func auditName(a linux.Arch) string {
	switch a {
	case linux.X86_64:
		return "X86_64"
	case linux.I386:
		return "I386"
	case linux.ARM64:
		return "AARCH64"
	}
	return strings.ToUpper(string(a))
}

// leaf is a range of syscall numbers [lo, hi] decided alike: a constant
// return, or (lo == hi) an argument rule.
type leaf struct {
	lo, hi uint32
	ret    uint32
	kind   ruleKind // 0: constant ret
	call   string   // the syscall of an argument rule
	names  []string // syscall names in the range, for comments
	what   string   // comment for constant leaves without names
}

// leaves covers [0, 2^32) for one ABI with ranges decided alike, merging
// consecutive numbers with the same constant return.
func (g *gen) leaves(a *abiPolicy) []leaf {
	pol := g.pol
	max := linux.MaxSyscall(a.arch)
	var out []leaf
	add := func(l leaf) {
		if n := len(out); n > 0 && l.kind == 0 && out[n-1].kind == 0 && out[n-1].ret == l.ret && out[n-1].hi+1 == l.lo && out[n-1].what == l.what {
			out[n-1].hi = l.hi
			out[n-1].names = append(out[n-1].names, l.names...)
			return
		}
		out = append(out, l)
	}
	for nr := 0; nr <= max; nr++ {
		r, ok := a.rules[nr]
		n := uint32(nr)
		switch {
		case !ok:
			add(leaf{lo: n, hi: n, ret: pol.deny, what: "not in profile"})
		case r.kind == ruleAllow:
			add(leaf{lo: n, hi: n, ret: RetAllow, names: []string{labelName(r)}})
		case r.kind == ruleENOSYS:
			add(leaf{lo: n, hi: n, ret: pol.enosys, names: []string{r.name}})
		default:
			add(leaf{lo: n, hi: n, kind: r.kind, call: r.name, names: []string{labelName(r)}})
		}
	}
	add(leaf{lo: uint32(max + 1), hi: 0xffffffff, ret: pol.enosys, what: fmt.Sprintf("newer than leash's %s table (> %d): libc falls back", a.arch, max)})
	return out
}

// labelName marks syscalls that are there for a reason other than having
// been learned.
func labelName(r rule) string {
	switch {
	case strings.HasPrefix(r.reason, "widen "):
		w := strings.TrimPrefix(r.reason, "widen ")
		if i := strings.Index(w, ":"); i >= 0 {
			w = w[:i]
		}
		return r.name + "[" + w + "]"
	case strings.HasPrefix(r.reason, "clone3 was learned"):
		return r.name + "[clone3-fallback]"
	}
	return r.name
}

// abi emits the block deciding one ABI and returns its first instruction.
func (g *gen) abi(a *abiPolicy) *insn {
	first := g.load(offNr, fmt.Sprintf("A = seccomp_data.nr (%s)", a.arch))
	if a.arch == linux.X86_64 {
		// The x32 guard: x32 syscalls reach the filter with the x86_64
		// arch and nr | __X32_SYSCALL_BIT.
		x32 := g.jump(bpf.JumpGreaterOrEqual, linux.X32SyscallBit, "nr >= __X32_SYSCALL_BIT: x32 ABI")
		x32.jt = g.ret(g.pol.abiDeny, "x32 ABI is never allowed")
		x32.jf = g.tree(a, g.leaves(a))
		return first
	}
	g.tree(a, g.leaves(a))
	return first
}

// tree emits a balanced binary search tree over leaves (sorted, covering
// the numbers that can reach it) and returns its first instruction. Each
// inner node is one jge; a leaf is a return or an argument rule, so any
// syscall runs at most ceil(log2(len(leaves))) comparisons.
func (g *gen) tree(a *abiPolicy, ls []leaf) *insn {
	if len(ls) == 1 {
		return g.leaf(a, ls[0])
	}
	mid := len(ls) / 2
	j := g.jump(bpf.JumpGreaterOrEqual, ls[mid].lo, "nr >= "+nrLabel(a.arch, ls[mid].lo))
	left := g.tree(a, ls[:mid])
	j.jf = left
	j.jt = g.tree(a, ls[mid:])
	return j
}

func nrLabel(a linux.Arch, nr uint32) string {
	if n := linux.SyscallName(a, int(nr)); n != "" {
		return fmt.Sprintf("%d (%s)", nr, n)
	}
	return fmt.Sprintf("%d", nr)
}

func rangeText(l leaf) string {
	r := fmt.Sprintf("%d", l.lo)
	if l.hi != l.lo {
		if l.hi == 0xffffffff {
			r += "+"
		} else {
			r += fmt.Sprintf("-%d", l.hi)
		}
	}
	if len(l.names) > 0 {
		return r + " " + strings.Join(l.names, " ")
	}
	return r + " " + l.what
}

func (g *gen) leaf(a *abiPolicy, l leaf) *insn {
	pol := g.pol
	switch l.kind {
	case ruleSocket:
		return g.socket(l)
	case ruleClone, ruleUnshare:
		deny := uint32(linux.AllNamespaceFlags) &^ pol.nsLearned
		first := g.load(argLow(0), l.names[0]+": A = flags (low 32 bits of args[0])")
		j := g.jump(bpf.JumpBitsSet, deny, fmt.Sprintf("flags & %#x: a CLONE_NEW* flag of a namespace not learned", deny))
		g.ret(RetAllow, rangeText(l))
		j.jt = g.ret(pol.deny, l.names[0]+" with a namespace not in the profile")
		return first
	case ruleSetns:
		first := g.load(argLow(1), l.names[0]+": A = nstype (low 32 bits of args[1])")
		j := g.jump(bpf.JumpBitsSet, ^pol.nsLearned, fmt.Sprintf("nstype & %#x: not a learned namespace", ^pol.nsLearned))
		z := g.jump(bpf.JumpEqual, 0, "nstype 0 joins any namespace: not every namespace was learned")
		g.ret(RetAllow, rangeText(l))
		d := g.ret(pol.deny, l.names[0]+" of a namespace not in the profile")
		j.jt, z.jt = d, d
		return first
	}
	return g.ret(l.ret, rangeText(l))
}

// socket emits the domain and type check of socket or socketpair: the
// domain must be a learned family, the type (SOCK_NONBLOCK and
// SOCK_CLOEXEC masked off) one of that family's learned types. For
// socket, a family with protocols listed (AF_NETLINK) then needs the
// protocol (low 32 bits of args[2], the kernel's int) to be one of them.
func (g *gen) socket(l leaf) *insn {
	pol := g.pol
	name := l.names[0]
	var fams []family
	for _, f := range pol.families {
		if len(f.types) > 0 {
			fams = append(fams, f)
		}
	}
	if len(fams) == 0 {
		return g.ret(pol.deny, name+": no address family learned")
	}
	first := g.load(argLow(0), name+": A = domain (low 32 bits of args[0])")
	// Families with the same types (and protocols, where checked) share
	// one type check.
	type block struct {
		types     []int
		protocols []int // checked after the type; nil: any protocol
		jumps     []*insn
		fams      []string
	}
	var blocks []*block
	byTypes := map[string]*block{}
	for _, f := range fams {
		var protocols []int
		if checksProtocol(l.call, f) {
			protocols = f.protocols
		}
		key := fmt.Sprint(f.types, protocols)
		b := byTypes[key]
		if b == nil {
			b = &block{types: f.types, protocols: protocols}
			byTypes[key] = b
			blocks = append(blocks, b)
		}
		b.fams = append(b.fams, linux.FamilyName(f.nr))
		b.jumps = append(b.jumps, g.jump(bpf.JumpEqual, uint32(f.nr), linux.FamilyName(f.nr)))
	}
	g.ret(pol.deny, name+" of an address family not in the profile")
	var allows []*insn
	for _, b := range blocks {
		start := g.load(argLow(1), "A = type (low 32 bits of args[1]) for "+strings.Join(b.fams, " "))
		for _, j := range b.jumps {
			j.jt = start
		}
		g.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: linux.SockTypeMask}, "A &= SOCK_TYPE_MASK: SOCK_NONBLOCK, SOCK_CLOEXEC ignored")
		var typeOK []*insn
		for _, t := range b.types {
			typeOK = append(typeOK, g.jump(bpf.JumpEqual, uint32(t), linux.SockTypeName(t)))
		}
		g.ret(pol.deny, name+" of a socket type not in the profile")
		if b.protocols == nil {
			allows = append(allows, typeOK...)
			continue
		}
		proto := g.load(argLow(2), "A = protocol (low 32 bits of args[2]) for "+strings.Join(b.fams, " "))
		for _, j := range typeOK {
			j.jt = proto
		}
		for _, pr := range b.protocols {
			allows = append(allows, g.jump(bpf.JumpEqual, uint32(pr), linux.NetlinkProtocolName(pr)))
		}
		g.ret(pol.deny, name+" of a netlink protocol not in the profile")
	}
	allow := g.ret(RetAllow, rangeText(l))
	for _, j := range allows {
		j.jt = allow
	}
	return first
}

// assemble resolves jump targets to offsets. A conditional jump reaches
// at most 255 instructions ahead; farther targets go through an inserted
// unconditional jump (32-bit offset) right after it.
func (g *gen) assemble() ([]bpf.Instruction, []string, error) {
	list := g.list
	for i, in := range list {
		if _, ok := in.op.(bpf.JumpIf); ok {
			if in.jt == nil {
				in.jt = list[i+1]
			}
			if in.jf == nil {
				in.jf = list[i+1]
			}
		}
	}
	for round := 0; ; round++ {
		if round > 64 {
			return nil, nil, fmt.Errorf("jump layout did not settle")
		}
		pos := make(map[*insn]int, len(list))
		for i, in := range list {
			pos[in] = i
		}
		var out []*insn
		changed := false
		for i, in := range list {
			out = append(out, in)
			if _, ok := in.op.(bpf.JumpIf); !ok {
				continue
			}
			var extra []*insn
			if pos[in.jt]-i-1 > 255 {
				t := &insn{op: bpf.Jump{}, ja: in.jt, comment: "long jump"}
				in.jt = t
				extra = append(extra, t)
			}
			if pos[in.jf]-i-1 > 255 {
				t := &insn{op: bpf.Jump{}, ja: in.jf, comment: "long jump"}
				in.jf = t
				extra = append(extra, t)
			}
			if len(extra) > 0 {
				changed = true
				out = append(out, extra...)
			}
		}
		list = out
		if !changed {
			break
		}
	}
	pos := make(map[*insn]int, len(list))
	for i, in := range list {
		pos[in] = i
	}
	insns := make([]bpf.Instruction, len(list))
	comments := make([]string, len(list))
	for i, in := range list {
		comments[i] = in.comment
		switch op := in.op.(type) {
		case bpf.JumpIf:
			jt, jf := pos[in.jt]-i-1, pos[in.jf]-i-1
			if jt < 0 || jf < 0 || jt > 255 || jf > 255 {
				return nil, nil, fmt.Errorf("instruction %d: jump out of range (%d, %d)", i, jt, jf)
			}
			op.SkipTrue, op.SkipFalse = uint8(jt), uint8(jf)
			insns[i] = op
		case bpf.Jump:
			off := pos[in.ja] - i - 1
			if off < 0 {
				return nil, nil, fmt.Errorf("instruction %d: backward jump", i)
			}
			op.Skip = uint32(off)
			insns[i] = op
		default:
			insns[i] = in.op
		}
	}
	return insns, comments, nil
}

func (pol *policy) ruleText(r rule) string {
	switch r.kind {
	case ruleAllow:
		return "allow"
	case ruleENOSYS:
		return "enosys"
	case ruleSocket:
		text := "allow if domain and type were learned"
		if r.name != "socket" {
			return text
		}
		for _, f := range pol.families {
			if len(f.protocols) == 0 {
				continue
			}
			var names []string
			for _, pr := range f.protocols {
				names = append(names, linux.NetlinkProtocolName(pr))
			}
			text += fmt.Sprintf("; %s only for %s", linux.FamilyName(f.nr), strings.Join(names, " "))
		}
		return text
	case ruleClone, ruleUnshare:
		return fmt.Sprintf("allow unless flags & %#x", uint32(linux.AllNamespaceFlags)&^pol.nsLearned)
	case ruleSetns:
		return fmt.Sprintf("allow if nstype != 0 and nstype & %#x == 0", ^pol.nsLearned)
	}
	return "?"
}
