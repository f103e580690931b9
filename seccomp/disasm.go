package seccomp

import (
	"fmt"
	"strings"

	"golang.org/x/net/bpf"
)

// Disasm returns a listing of the program, one instruction a line, with
// absolute jump targets and a comment naming the syscalls each comparison
// and return is about. Syscalls added by a widening are marked
// name[widening].
func (f *Filter) Disasm() string {
	var b strings.Builder
	fmt.Fprintf(&b, "; leash seccomp filter: component %q, host %s\n", f.pol.component, f.Arch)
	fmt.Fprintf(&b, "; default action %s", ActionName(f.DefaultAction))
	if len(f.Widened) > 0 {
		fmt.Fprintf(&b, "; widened: %s", strings.Join(f.Widened, ", "))
	}
	fmt.Fprintf(&b, "\n; %d instructions\n", len(f.Insns))
	for i, in := range f.Insns {
		text := insnText(i, in)
		if c := f.Comments[i]; c != "" {
			fmt.Fprintf(&b, "%4d: %-34s ; %s\n", i, text, c)
		} else {
			fmt.Fprintf(&b, "%4d: %s\n", i, text)
		}
	}
	return b.String()
}

// insnText formats one instruction in the style of the kernel's
// bpf_dbg: jump targets as absolute instruction numbers.
func insnText(i int, in bpf.Instruction) string {
	switch op := in.(type) {
	case bpf.LoadAbsolute:
		return fmt.Sprintf("ld  [%d]", op.Off)
	case bpf.JumpIf:
		name := map[bpf.JumpTest]string{
			bpf.JumpEqual: "jeq", bpf.JumpGreaterOrEqual: "jge", bpf.JumpGreaterThan: "jgt", bpf.JumpBitsSet: "jset",
		}[op.Cond]
		if name == "" {
			name = fmt.Sprintf("j?%d", op.Cond)
		}
		return fmt.Sprintf("%-4s #%#x jt %d jf %d", name, op.Val, i+1+int(op.SkipTrue), i+1+int(op.SkipFalse))
	case bpf.Jump:
		return fmt.Sprintf("ja  %d", i+1+int(op.Skip))
	case bpf.ALUOpConstant:
		if op.Op == bpf.ALUOpAnd {
			return fmt.Sprintf("and #%#x", op.Val)
		}
	case bpf.RetConstant:
		return fmt.Sprintf("ret #%#x", op.Val)
	}
	return fmt.Sprint(in)
}
