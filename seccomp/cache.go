package seccomp

import "golang.org/x/net/bpf"

// ConstAllow reports whether the kernel's seccomp action cache (Linux
// 5.11+, kernel/seccomp.c: seccomp_cache_prepare_bitmap) marks syscall nr
// of the ABI arch as always allowed by prog, so that the kernel answers it
// from a bitmap without running the filter.
//
// It is a port of seccomp_is_const_allow: the kernel follows the program
// from the start with seccomp_data holding only arch and nr, and gives up
// (no cache, the filter runs on every such syscall) at the first
// instruction whose result could depend on anything else: a load of the
// instruction pointer or an argument, scratch memory, the X register, any
// ALU operation but "and #k". The syscall is cached only if that walk ends
// in "ret #SECCOMP_RET_ALLOW". A task's syscall is cached only when every
// filter it has is constant-allow for it.
//
// The bitmap covers nr in [0, NR_syscalls) of the native ABI and, on
// x86_64, of i386; x32 numbers are never cached. ConstAllow judges the
// program alone: the kernel also lets x86_64 uretprobe and uprobe through
// without filtering, whatever the program says.
func ConstAllow(prog []bpf.RawInstruction, arch uint32, nr int32) bool {
	var reg uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Op {
		case 0x20: // BPF_LD | BPF_W | BPF_ABS
			switch in.K {
			case offNr:
				reg = uint32(nr)
			case offArch:
				reg = arch
			default:
				return false // a load the cache cannot know
			}
		case 0x06: // BPF_RET | BPF_K
			return in.K == RetAllow
		case 0x05: // BPF_JMP | BPF_JA
			pc += int(in.K)
		case 0x15, 0x35, 0x25, 0x45: // BPF_JMP | BPF_{JEQ,JGE,JGT,JSET} | BPF_K
			var res bool
			switch in.Op {
			case 0x15:
				res = reg == in.K
			case 0x35:
				res = reg >= in.K
			case 0x25:
				res = reg > in.K
			case 0x45:
				res = reg&in.K != 0
			}
			if res {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case 0x54: // BPF_ALU | BPF_AND | BPF_K
			reg &= in.K
		default:
			return false
		}
	}
	return false // ran off the end (the kernel warns)
}
