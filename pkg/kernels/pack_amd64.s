//go:build amd64

#include "textflag.h"

// func packT12(dst, src *float32, kc, lda int)
//
// Copies kc rows of 12 floats, lda floats apart in src, to dst (12 floats
// per row, contiguous): a transposed 12-row sliver of A. AVX.
TEXT ·packT12(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ kc+16(FP), CX
	MOVQ lda+24(FP), DX
	SHLQ $2, DX
	TESTQ CX, CX
	JEQ packt12done

packt12loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), X1
	VMOVUPS Y0, (DI)
	VMOVUPS X1, 32(DI)
	ADDQ DX, SI
	ADDQ $48, DI
	DECQ CX
	JNZ packt12loop

packt12done:
	VZEROUPPER
	RET

// func packRows32(dst, src *float32, kc, ldb int)
//
// Copies kc rows of 32 floats, ldb floats apart in src, to dst (contiguous):
// a full-width strip of B. AVX.
TEXT ·packRows32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ kc+16(FP), CX
	MOVQ ldb+24(FP), DX
	SHLQ $2, DX
	TESTQ CX, CX
	JEQ packrows32done

packrows32loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ DX, SI
	ADDQ $128, DI
	DECQ CX
	JNZ packrows32loop

packrows32done:
	VZEROUPPER
	RET

// func packRows16(dst, src *float32, kc, ldb int)
//
// packRows32 for rows of 16 floats.
TEXT ·packRows16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ kc+16(FP), CX
	MOVQ ldb+24(FP), DX
	SHLQ $2, DX
	TESTQ CX, CX
	JEQ packrows16done

packrows16loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ DX, SI
	ADDQ $64, DI
	DECQ CX
	JNZ packrows16loop

packrows16done:
	VZEROUPPER
	RET
