#include "textflag.h"

// func rawVfork(trap, a1, a2, a3 uintptr) (r1, err uintptr)
//
// A syscall that may return twice on one stack: clone with CLONE_VM and
// CLONE_VFORK. The child returns first and runs on (and over) the stack
// below its caller while the parent is suspended, so the parent must not
// need its return address from there: it is kept in R12, as in the
// standard library's syscall.rawVforkSyscall.
TEXT ·rawVfork(SB),NOSPLIT|NOFRAME,$0-48
	MOVQ	a1+8(FP), DI
	MOVQ	a2+16(FP), SI
	MOVQ	a3+24(FP), DX
	MOVQ	$0, R10
	MOVQ	$0, R8
	MOVQ	$0, R9
	MOVQ	trap+0(FP), AX
	POPQ	R12
	SYSCALL
	PUSHQ	R12
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, r1+32(FP)
	NEGQ	AX
	MOVQ	AX, err+40(FP)
	RET
ok:
	MOVQ	AX, r1+32(FP)
	MOVQ	$0, err+40(FP)
	RET

// func cloneOnStack(flags, stack uintptr, pl *plan) (pid, err uintptr)
//
// clone(flags) with the child on stack (its highest address, 16-byte
// aligned), where the child calls initMain(pl), which never returns.
// With CLONE_VM the child shares the caller's memory but runs on a stack
// of its own, so both go on at once. pl is kept in R12, which the kernel
// preserves and the child inherits.
TEXT ·cloneOnStack(SB),NOSPLIT|NOFRAME,$0-40
	MOVQ	flags+0(FP), DI
	MOVQ	stack+8(FP), SI
	MOVQ	pl+16(FP), R12
	MOVQ	$0, DX
	MOVQ	$0, R10
	MOVQ	$0, R8
	MOVL	$56, AX // SYS_clone
	SYSCALL
	CMPQ	AX, $0
	JEQ	child
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, pid+24(FP)
	NEGQ	AX
	MOVQ	AX, err+32(FP)
	RET
ok:
	MOVQ	AX, pid+24(FP)
	MOVQ	$0, err+32(FP)
	RET
child:
	// On the new stack: initMain(pl), ABI0 (the argument at 0(SP)).
	SUBQ	$16, SP
	MOVQ	R12, 0(SP)
	CALL	·initMain(SB)
	MOVL	$231, AX // SYS_exit_group, if it ever returned
	MOVL	$125, DI
	SYSCALL
	INT	$3
