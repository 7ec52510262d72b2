//go:build amd64

#include "go_asm.h"
#include "textflag.h"

// func zigFastAVX512(lanes *[4][8]uint64, out *float32, cand *uint32, rej *uint16, rounds int, kt *uint32, wt *float32)
//
// zigFastGo in vector code: Z0–Z3 hold words 0–3 of the eight xoshiro256++
// lanes; each round's 64-bit outputs, read as sixteen 32-bit candidates,
// are in the order of zigFastGo.
TEXT ·zigFastAVX512(SB), NOSPLIT, $0-56
	MOVQ lanes+0(FP), AX
	MOVQ out+8(FP), DI
	MOVQ cand+16(FP), SI
	MOVQ rej+24(FP), DX
	MOVQ rounds+32(FP), CX
	MOVQ kt+40(FP), R8
	MOVQ wt+48(FP), R9
	VMOVDQU64 0(AX), Z0
	VMOVDQU64 64(AX), Z1
	VMOVDQU64 128(AX), Z2
	VMOVDQU64 192(AX), Z3
	MOVL $const_zigMask, R10
	VPBROADCASTD R10, Z10
	TESTQ CX, CX
	JEQ zigdone

zigloop:
	// u = rotl(s0+s3, 23) + s0; t = s1<<17; s2 ^= s0; s3 ^= s1;
	// s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45).
	VPADDQ Z3, Z0, Z8
	VPROLQ $23, Z8, Z8
	VPADDQ Z0, Z8, Z8
	VPSLLQ $17, Z1, Z9
	VPXORQ Z0, Z2, Z2
	VPXORQ Z1, Z3, Z3
	VPXORQ Z2, Z1, Z1
	VPXORQ Z3, Z0, Z0
	VPXORQ Z9, Z2, Z2
	VPROLQ $45, Z3, Z3
	VMOVDQU32 Z8, 0(SI)
	VPSRAD $const_zigBits, Z8, Z11 // j
	VPANDD Z10, Z8, Z12 // l
	KXNORW K0, K0, K1
	VPGATHERDD (R8)(Z12*4), K1, Z13 // k[l]
	KXNORW K0, K0, K2
	VGATHERDPS (R9)(Z12*4), K2, Z14 // w32[l]
	VPABSD Z11, Z15
	VPCMPUD $5, Z13, Z15, K3 // |j| >= k[l]
	VCVTDQ2PS Z11, Z11
	VMULPS Z14, Z11, Z11
	VMOVUPS Z11, 0(DI)
	KMOVW K3, R11
	MOVW R11, 0(DX)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $2, DX
	DECQ CX
	JNZ zigloop

zigdone:
	VMOVDQU64 Z0, 0(AX)
	VMOVDQU64 Z1, 64(AX)
	VMOVDQU64 Z2, 128(AX)
	VMOVDQU64 Z3, 192(AX)
	VZEROUPPER
	RET
