//go:build amd64

#include "textflag.h"

// func axpyAVX512(x, y *float32, n int, alpha float32)
//
// n must be a multiple of 16.
TEXT ·axpyAVX512(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS alpha+24(FP), Z31
	CMPQ CX, $64
	JLT axpyavx512one

axpyavx512four:
	VMOVUPS 0(DI), Z0
	VFMADD231PS 0(SI), Z31, Z0
	VMOVUPS Z0, 0(DI)
	VMOVUPS 64(DI), Z1
	VFMADD231PS 64(SI), Z31, Z1
	VMOVUPS Z1, 64(DI)
	VMOVUPS 128(DI), Z2
	VFMADD231PS 128(SI), Z31, Z2
	VMOVUPS Z2, 128(DI)
	VMOVUPS 192(DI), Z3
	VFMADD231PS 192(SI), Z31, Z3
	VMOVUPS Z3, 192(DI)
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	CMPQ CX, $64
	JGE axpyavx512four

axpyavx512one:
	TESTQ CX, CX
	JEQ axpyavx512done
	VMOVUPS 0(DI), Z0
	VFMADD231PS 0(SI), Z31, Z0
	VMOVUPS Z0, 0(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP axpyavx512one

axpyavx512done:
	VZEROUPPER
	RET

// func scaleAVX512(x *float32, n int, alpha float32)
//
// n must be a multiple of 16.
TEXT ·scaleAVX512(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS alpha+16(FP), Z31
	CMPQ CX, $64
	JLT scaleavx512one

scaleavx512four:
	VMULPS 0(DI), Z31, Z0
	VMOVUPS Z0, 0(DI)
	VMULPS 64(DI), Z31, Z1
	VMOVUPS Z1, 64(DI)
	VMULPS 128(DI), Z31, Z2
	VMOVUPS Z2, 128(DI)
	VMULPS 192(DI), Z31, Z3
	VMOVUPS Z3, 192(DI)
	ADDQ $256, DI
	SUBQ $64, CX
	CMPQ CX, $64
	JGE scaleavx512four

scaleavx512one:
	TESTQ CX, CX
	JEQ scaleavx512done
	VMULPS 0(DI), Z31, Z0
	VMOVUPS Z0, 0(DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JMP scaleavx512one

scaleavx512done:
	VZEROUPPER
	RET

// func addAVX512(dst, x, y *float32, n int)
//
// n must be a multiple of 16.
TEXT ·addAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	CMPQ CX, $64
	JLT addavx512one

addavx512four:
	VMOVUPS 0(SI), Z0
	VADDPS 0(DX), Z0, Z0
	VMOVUPS Z0, 0(DI)
	VMOVUPS 64(SI), Z1
	VADDPS 64(DX), Z1, Z1
	VMOVUPS Z1, 64(DI)
	VMOVUPS 128(SI), Z2
	VADDPS 128(DX), Z2, Z2
	VMOVUPS Z2, 128(DI)
	VMOVUPS 192(SI), Z3
	VADDPS 192(DX), Z3, Z3
	VMOVUPS Z3, 192(DI)
	ADDQ $256, DI
	ADDQ $256, SI
	ADDQ $256, DX
	SUBQ $64, CX
	CMPQ CX, $64
	JGE addavx512four

addavx512one:
	TESTQ CX, CX
	JEQ addavx512done
	VMOVUPS 0(SI), Z0
	VADDPS 0(DX), Z0, Z0
	VMOVUPS Z0, 0(DI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, DX
	SUBQ $16, CX
	JMP addavx512one

addavx512done:
	VZEROUPPER
	RET

// func maxAVX512(dst, x *float32, n int, t float32)
//
// n must be a multiple of 16.
TEXT ·maxAVX512(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS t+24(FP), Z31
	CMPQ CX, $64
	JLT maxavx512one

maxavx512four:
	VMOVUPS 0(SI), Z0
	VMAXPS Z31, Z0, Z0
	VMOVUPS Z0, 0(DI)
	VMOVUPS 64(SI), Z1
	VMAXPS Z31, Z1, Z1
	VMOVUPS Z1, 64(DI)
	VMOVUPS 128(SI), Z2
	VMAXPS Z31, Z2, Z2
	VMOVUPS Z2, 128(DI)
	VMOVUPS 192(SI), Z3
	VMAXPS Z31, Z3, Z3
	VMOVUPS Z3, 192(DI)
	ADDQ $256, DI
	ADDQ $256, SI
	SUBQ $64, CX
	CMPQ CX, $64
	JGE maxavx512four

maxavx512one:
	TESTQ CX, CX
	JEQ maxavx512done
	VMOVUPS 0(SI), Z0
	VMAXPS Z31, Z0, Z0
	VMOVUPS Z0, 0(DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JMP maxavx512one

maxavx512done:
	VZEROUPPER
	RET

// func maxBackwardAVX512(dx, dy, x *float32, n int, t float32)
//
// n must be a multiple of 16.
TEXT ·maxBackwardAVX512(SB), NOSPLIT, $0-36
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	VBROADCASTSS t+32(FP), Z31
	CMPQ CX, $64
	JLT maxBackwardavx512one

maxBackwardavx512four:
	VMOVUPS 0(SI), Z0
	VCMPPS $0x1e, Z31, Z0, K1
	VMOVUPS.Z 0(DX), K1, Z0
	VMOVUPS Z0, 0(DI)
	VMOVUPS 64(SI), Z1
	VCMPPS $0x1e, Z31, Z1, K2
	VMOVUPS.Z 64(DX), K2, Z1
	VMOVUPS Z1, 64(DI)
	VMOVUPS 128(SI), Z2
	VCMPPS $0x1e, Z31, Z2, K3
	VMOVUPS.Z 128(DX), K3, Z2
	VMOVUPS Z2, 128(DI)
	VMOVUPS 192(SI), Z3
	VCMPPS $0x1e, Z31, Z3, K4
	VMOVUPS.Z 192(DX), K4, Z3
	VMOVUPS Z3, 192(DI)
	ADDQ $256, DI
	ADDQ $256, DX
	ADDQ $256, SI
	SUBQ $64, CX
	CMPQ CX, $64
	JGE maxBackwardavx512four

maxBackwardavx512one:
	TESTQ CX, CX
	JEQ maxBackwardavx512done
	VMOVUPS 0(SI), Z0
	VCMPPS $0x1e, Z31, Z0, K1
	VMOVUPS.Z 0(DX), K1, Z0
	VMOVUPS Z0, 0(DI)
	ADDQ $64, DI
	ADDQ $64, DX
	ADDQ $64, SI
	SUBQ $16, CX
	JMP maxBackwardavx512one

maxBackwardavx512done:
	VZEROUPPER
	RET

// func axpyAVX2(x, y *float32, n int, alpha float32)
//
// n must be a multiple of 8.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS alpha+24(FP), Y15
	CMPQ CX, $32
	JLT axpyavx2one

axpyavx2four:
	VMOVUPS 0(DI), Y0
	VFMADD231PS 0(SI), Y15, Y0
	VMOVUPS Y0, 0(DI)
	VMOVUPS 32(DI), Y1
	VFMADD231PS 32(SI), Y15, Y1
	VMOVUPS Y1, 32(DI)
	VMOVUPS 64(DI), Y2
	VFMADD231PS 64(SI), Y15, Y2
	VMOVUPS Y2, 64(DI)
	VMOVUPS 96(DI), Y3
	VFMADD231PS 96(SI), Y15, Y3
	VMOVUPS Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	CMPQ CX, $32
	JGE axpyavx2four

axpyavx2one:
	TESTQ CX, CX
	JEQ axpyavx2done
	VMOVUPS 0(DI), Y0
	VFMADD231PS 0(SI), Y15, Y0
	VMOVUPS Y0, 0(DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP axpyavx2one

axpyavx2done:
	VZEROUPPER
	RET

// func scaleAVX2(x *float32, n int, alpha float32)
//
// n must be a multiple of 8.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS alpha+16(FP), Y15
	CMPQ CX, $32
	JLT scaleavx2one

scaleavx2four:
	VMULPS 0(DI), Y15, Y0
	VMOVUPS Y0, 0(DI)
	VMULPS 32(DI), Y15, Y1
	VMOVUPS Y1, 32(DI)
	VMULPS 64(DI), Y15, Y2
	VMOVUPS Y2, 64(DI)
	VMULPS 96(DI), Y15, Y3
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	SUBQ $32, CX
	CMPQ CX, $32
	JGE scaleavx2four

scaleavx2one:
	TESTQ CX, CX
	JEQ scaleavx2done
	VMULPS 0(DI), Y15, Y0
	VMOVUPS Y0, 0(DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JMP scaleavx2one

scaleavx2done:
	VZEROUPPER
	RET

// func addAVX2(dst, x, y *float32, n int)
//
// n must be a multiple of 8.
TEXT ·addAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	CMPQ CX, $32
	JLT addavx2one

addavx2four:
	VMOVUPS 0(SI), Y0
	VADDPS 0(DX), Y0, Y0
	VMOVUPS Y0, 0(DI)
	VMOVUPS 32(SI), Y1
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DI)
	VMOVUPS 64(SI), Y2
	VADDPS 64(DX), Y2, Y2
	VMOVUPS Y2, 64(DI)
	VMOVUPS 96(SI), Y3
	VADDPS 96(DX), Y3, Y3
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	ADDQ $128, DX
	SUBQ $32, CX
	CMPQ CX, $32
	JGE addavx2four

addavx2one:
	TESTQ CX, CX
	JEQ addavx2done
	VMOVUPS 0(SI), Y0
	VADDPS 0(DX), Y0, Y0
	VMOVUPS Y0, 0(DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	SUBQ $8, CX
	JMP addavx2one

addavx2done:
	VZEROUPPER
	RET

// func maxAVX2(dst, x *float32, n int, t float32)
//
// n must be a multiple of 8.
TEXT ·maxAVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS t+24(FP), Y15
	CMPQ CX, $32
	JLT maxavx2one

maxavx2four:
	VMOVUPS 0(SI), Y0
	VMAXPS Y15, Y0, Y0
	VMOVUPS Y0, 0(DI)
	VMOVUPS 32(SI), Y1
	VMAXPS Y15, Y1, Y1
	VMOVUPS Y1, 32(DI)
	VMOVUPS 64(SI), Y2
	VMAXPS Y15, Y2, Y2
	VMOVUPS Y2, 64(DI)
	VMOVUPS 96(SI), Y3
	VMAXPS Y15, Y3, Y3
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	SUBQ $32, CX
	CMPQ CX, $32
	JGE maxavx2four

maxavx2one:
	TESTQ CX, CX
	JEQ maxavx2done
	VMOVUPS 0(SI), Y0
	VMAXPS Y15, Y0, Y0
	VMOVUPS Y0, 0(DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP maxavx2one

maxavx2done:
	VZEROUPPER
	RET

// func maxBackwardAVX2(dx, dy, x *float32, n int, t float32)
//
// n must be a multiple of 8.
TEXT ·maxBackwardAVX2(SB), NOSPLIT, $0-36
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	VBROADCASTSS t+32(FP), Y15
	CMPQ CX, $32
	JLT maxBackwardavx2one

maxBackwardavx2four:
	VMOVUPS 0(SI), Y0
	VCMPPS $0x1e, Y15, Y0, Y0
	VANDPS 0(DX), Y0, Y0
	VMOVUPS Y0, 0(DI)
	VMOVUPS 32(SI), Y1
	VCMPPS $0x1e, Y15, Y1, Y1
	VANDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DI)
	VMOVUPS 64(SI), Y2
	VCMPPS $0x1e, Y15, Y2, Y2
	VANDPS 64(DX), Y2, Y2
	VMOVUPS Y2, 64(DI)
	VMOVUPS 96(SI), Y3
	VCMPPS $0x1e, Y15, Y3, Y3
	VANDPS 96(DX), Y3, Y3
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	ADDQ $128, DX
	ADDQ $128, SI
	SUBQ $32, CX
	CMPQ CX, $32
	JGE maxBackwardavx2four

maxBackwardavx2one:
	TESTQ CX, CX
	JEQ maxBackwardavx2done
	VMOVUPS 0(SI), Y0
	VCMPPS $0x1e, Y15, Y0, Y0
	VANDPS 0(DX), Y0, Y0
	VMOVUPS Y0, 0(DI)
	ADDQ $32, DI
	ADDQ $32, DX
	ADDQ $32, SI
	SUBQ $8, CX
	JMP maxBackwardavx2one

maxBackwardavx2done:
	VZEROUPPER
	RET
