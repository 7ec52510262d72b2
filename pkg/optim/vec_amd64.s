//go:build amd64

#include "textflag.h"

// Element-wise float32 kernels of the optimizers (vec.go). n must be a
// multiple of 16. Every operation is a separate IEEE multiply, add,
// divide or square root (no fused multiply-add), in the order of the Go
// loops they replace, so the results are bit-identical to them.
//
// Each kernel runs with FTZ and DAZ set in MXCSR, as the GEMM kernels do
// (pkg/kernels): a denormal operand is read as zero and a denormal result
// written as zero, of the same sign. Denormals otherwise cost ~100× per
// operation, and long runs produce them (Adam's and bSAM's moving averages
// of squared or tiny gradients decay into the denormal range and stay
// there). The Go loops flush the same values explicitly (vec.go, ftz), so
// the results still do not depend on the path. MXCSR is restored before
// every RET: the Go code after the call computes with IEEE denormals.

// func sampleStdAVX512(dst, w, e, sd *float32, n int)
// dst = w + e·sd
TEXT ·sampleStdAVX512(SB), NOSPLIT, $8-40
	// FTZ and DAZ (see the file comment); MXCSR is restored on return.
	STMXCSR mxcsr-4(SP)
	MOVL mxcsr-4(SP), AX
	ORL $0x8040, AX
	MOVL AX, ftz-8(SP)
	LDMXCSR ftz-8(SP)
	MOVQ dst+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ e+16(FP), DX
	MOVQ sd+24(FP), R8
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JEQ sampledone

sampleloop:
	VMOVUPS 0(DX), Z0
	VMULPS 0(R8), Z0, Z0
	VADDPS 0(SI), Z0, Z0
	VMOVUPS Z0, 0(DI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R8
	SUBQ $16, CX
	JNZ sampleloop

sampledone:
	VZEROUPPER
	LDMXCSR mxcsr-4(SP)
	RET

// func perturbAVX512(point, w, gr, rs, habs *float32, n int, first int)
// point = w + g·rs; habs = |g| (first ≠ 0) or habs += |g|
TEXT ·perturbAVX512(SB), NOSPLIT, $8-56
	// FTZ and DAZ (see the file comment); MXCSR is restored on return.
	STMXCSR mxcsr-4(SP)
	MOVL mxcsr-4(SP), AX
	ORL $0x8040, AX
	MOVL AX, ftz-8(SP)
	LDMXCSR ftz-8(SP)
	MOVQ point+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ gr+16(FP), DX
	MOVQ rs+24(FP), R8
	MOVQ habs+32(FP), R9
	MOVQ n+40(FP), CX
	MOVQ first+48(FP), AX
	MOVL $0x7fffffff, R10
	VPBROADCASTD R10, Z31
	TESTQ CX, CX
	JEQ perturbdone
	TESTQ AX, AX
	JEQ perturbadd

perturbset:
	VMOVUPS 0(DX), Z0
	VMULPS 0(R8), Z0, Z1
	VADDPS 0(SI), Z1, Z1
	VMOVUPS Z1, 0(DI)
	VPANDD Z31, Z0, Z2
	VMOVUPS Z2, 0(R9)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JNZ perturbset
	JMP perturbdone

perturbadd:
	VMOVUPS 0(DX), Z0
	VMULPS 0(R8), Z0, Z1
	VADDPS 0(SI), Z1, Z1
	VMOVUPS Z1, 0(DI)
	VPANDD Z31, Z0, Z2
	VADDPS 0(R9), Z2, Z2
	VMOVUPS Z2, 0(R9)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JNZ perturbadd

perturbdone:
	VZEROUPPER
	LDMXCSR mxcsr-4(SP)
	RET

// func sdrsAVX512(sd, rs, s *float32, n int, nd, rhoN float32)
// sd = 1/sqrt(nd·s); rs = rhoN·(sd·sd)
TEXT ·sdrsAVX512(SB), NOSPLIT, $8-40
	// FTZ and DAZ (see the file comment); MXCSR is restored on return.
	STMXCSR mxcsr-4(SP)
	MOVL mxcsr-4(SP), AX
	ORL $0x8040, AX
	MOVL AX, ftz-8(SP)
	LDMXCSR ftz-8(SP)
	MOVQ sd+0(FP), DI
	MOVQ rs+8(FP), SI
	MOVQ s+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS nd+32(FP), Z30
	VBROADCASTSS rhoN+36(FP), Z29
	MOVL $0x3f800000, R10
	VPBROADCASTD R10, Z28
	TESTQ CX, CX
	JEQ sdrsdone

sdrsloop:
	VMOVUPS 0(DX), Z0
	VMULPS Z0, Z30, Z0
	VSQRTPS Z0, Z0
	VDIVPS Z0, Z28, Z1
	VMOVUPS Z1, 0(DI)
	VMULPS Z1, Z1, Z2
	VMULPS Z2, Z29, Z2
	VMOVUPS Z2, 0(SI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, DX
	SUBQ $16, CX
	JNZ sdrsloop

sdrsdone:
	VZEROUPPER
	LDMXCSR mxcsr-4(SP)
	RET

// func bsamUpdateAVX512(w, gm, s, sd, gsum, gt, habs *float32, n int, c *bsamCoef)
// The update loop of (*bsam).Step; c holds b1, c1, b2, c2, lrN, delta,
// sqrtN, gd, inv.
TEXT ·bsamUpdateAVX512(SB), NOSPLIT, $8-72
	// FTZ and DAZ (see the file comment); MXCSR is restored on return.
	STMXCSR mxcsr-4(SP)
	MOVL mxcsr-4(SP), AX
	ORL $0x8040, AX
	MOVL AX, ftz-8(SP)
	LDMXCSR ftz-8(SP)
	MOVQ w+0(FP), DI
	MOVQ gm+8(FP), SI
	MOVQ s+16(FP), DX
	MOVQ sd+24(FP), R8
	MOVQ gsum+32(FP), R9
	MOVQ gt+40(FP), R10
	MOVQ habs+48(FP), R11
	MOVQ n+56(FP), CX
	MOVQ c+64(FP), AX
	VBROADCASTSS 0(AX), Z20  // b1
	VBROADCASTSS 4(AX), Z21  // c1
	VBROADCASTSS 8(AX), Z22  // b2
	VBROADCASTSS 12(AX), Z23 // c2
	VBROADCASTSS 16(AX), Z24 // lrN
	VBROADCASTSS 20(AX), Z25 // delta
	VBROADCASTSS 24(AX), Z26 // sqrtN
	VBROADCASTSS 28(AX), Z27 // gd
	VBROADCASTSS 32(AX), Z28 // inv
	TESTQ CX, CX
	JEQ updatedone

updateloop:
	VMOVUPS 0(DI), Z0 // w
	VMOVUPS 0(DX), Z2 // s
	VMOVUPS 0(R8), Z3 // sd
	// mi = b1·gm + c1·((gsum+gt)·inv + delta·w)
	VMOVUPS 0(R9), Z4
	VADDPS 0(R10), Z4, Z4
	VMULPS Z28, Z4, Z4
	VMULPS Z0, Z25, Z5
	VADDPS Z5, Z4, Z4
	VMULPS Z4, Z21, Z4
	VMULPS 0(SI), Z20, Z6
	VADDPS Z4, Z6, Z6
	VMOVUPS Z6, 0(SI)
	// w = w − lrN·(sd·sd)·mi
	VMULPS Z3, Z3, Z7
	VMULPS Z7, Z24, Z7
	VMULPS Z6, Z7, Z7
	VSUBPS Z7, Z0, Z0
	VMOVUPS Z0, 0(DI)
	// h = sqrtN·s·sd·(habs·inv); s = b2·s + c2·(h + gd)
	VMULPS Z2, Z26, Z8
	VMULPS Z3, Z8, Z8
	VMULPS 0(R11), Z28, Z9
	VMULPS Z9, Z8, Z8
	VADDPS Z27, Z8, Z8
	VMULPS Z8, Z23, Z8
	VMULPS Z2, Z22, Z10
	VADDPS Z8, Z10, Z10
	VMOVUPS Z10, 0(DX)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	SUBQ $16, CX
	JNZ updateloop

updatedone:
	VZEROUPPER
	LDMXCSR mxcsr-4(SP)
	RET

// func addToAVX512(sum, x *float32, n int)
// sum += x
TEXT ·addToAVX512(SB), NOSPLIT, $8-24
	// FTZ and DAZ (see the file comment); MXCSR is restored on return.
	STMXCSR mxcsr-4(SP)
	MOVL mxcsr-4(SP), AX
	ORL $0x8040, AX
	MOVL AX, ftz-8(SP)
	LDMXCSR ftz-8(SP)
	MOVQ sum+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JEQ adddone

addloop:
	VMOVUPS 0(DI), Z0
	VADDPS 0(SI), Z0, Z0
	VMOVUPS Z0, 0(DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ addloop

adddone:
	VZEROUPPER
	LDMXCSR mxcsr-4(SP)
	RET

// func scaleAddAVX512(dst, w, gr *float32, n int, a float32)
// dst = w + a·g
TEXT ·scaleAddAVX512(SB), NOSPLIT, $8-36
	// FTZ and DAZ (see the file comment); MXCSR is restored on return.
	STMXCSR mxcsr-4(SP)
	MOVL mxcsr-4(SP), AX
	ORL $0x8040, AX
	MOVL AX, ftz-8(SP)
	LDMXCSR ftz-8(SP)
	MOVQ dst+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ gr+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS a+32(FP), Z30
	TESTQ CX, CX
	JEQ scaleadddone

scaleaddloop:
	VMULPS 0(DX), Z30, Z0
	VADDPS 0(SI), Z0, Z0
	VMOVUPS Z0, 0(DI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, DX
	SUBQ $16, CX
	JNZ scaleaddloop

scaleadddone:
	VZEROUPPER
	LDMXCSR mxcsr-4(SP)
	RET

// func sumSquaresAVX512(x *float32, n int, part *[16]float64)
// part[l] += Σ x[i]² over i ≡ l (mod 16), in float64
TEXT ·sumSquaresAVX512(SB), NOSPLIT, $8-24
	// FTZ and DAZ (see the file comment); MXCSR is restored on return.
	STMXCSR mxcsr-4(SP)
	MOVL mxcsr-4(SP), AX
	ORL $0x8040, AX
	MOVL AX, ftz-8(SP)
	LDMXCSR ftz-8(SP)
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ part+16(FP), DI
	VMOVUPD 0(DI), Z0
	VMOVUPD 64(DI), Z1
	TESTQ CX, CX
	JEQ sumsqdone

sumsqloop:
	VCVTPS2PD 0(SI), Z2
	VCVTPS2PD 32(SI), Z3
	VMULPD Z2, Z2, Z2
	VADDPD Z2, Z0, Z0
	VMULPD Z3, Z3, Z3
	VADDPD Z3, Z1, Z1
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ sumsqloop

sumsqdone:
	VMOVUPD Z0, 0(DI)
	VMOVUPD Z1, 64(DI)
	VZEROUPPER
	LDMXCSR mxcsr-4(SP)
	RET
