#include "textflag.h"

// func Syscall(nr, a1, a2, a3 uint32) int32
// int $0x80 from 64-bit mode clears r8-r11 and may leave the upper halves
// of other registers; the ABI0 wrapper reloads g (R14) on return.
TEXT ·Syscall(SB),NOSPLIT,$0-20
	MOVL nr+0(FP), AX
	MOVL a1+4(FP), BX
	MOVL a2+8(FP), CX
	MOVL a3+12(FP), DX
	INT $0x80
	MOVL AX, ret+16(FP)
	RET
