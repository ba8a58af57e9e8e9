//go:build amd64 && !purego

#include "textflag.h"

// func weakBlocksAVX2(h uint32, p []byte) uint32
//
// With K = len(p)/32 steps of 32 bytes q^(k), lane l of accumulator Y(j)
// runs the Horner chain A <- A*M^32 + q^(k)[8j+l], so it ends as
// sum_k q^(k)[8j+l] * M^(32(K-1-k)). Byte 8j+l of a step weighs M^(31-8j-l)
// in the sum, so the lanes are multiplied by those weights and added up.
// h starts in lane 7 of Y3, whose weight is 1, and so ends as h*M^(32K).
TEXT ·weakBlocksAVX2(SB), NOSPLIT, $0-36
	MOVQ p_base+8(FP), SI
	MOVQ p_len+16(FP), CX
	SHRQ $5, CX
	LEAQ ·weakPowAVX2(SB), AX
	VPBROADCASTD 128(AX), Y8
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	MOVL h+0(FP), DX
	VMOVD DX, X3
	VPBROADCASTD X3, Y3
	VPBLENDD $0x80, Y3, Y0, Y3
	TESTQ CX, CX
	JZ   reduce

loop:
	VPMULLD   Y8, Y0, Y0
	VPMOVZXBD (SI), Y4
	VPADDD    Y4, Y0, Y0
	VPMULLD   Y8, Y1, Y1
	VPMOVZXBD 8(SI), Y5
	VPADDD    Y5, Y1, Y1
	VPMULLD   Y8, Y2, Y2
	VPMOVZXBD 16(SI), Y6
	VPADDD    Y6, Y2, Y2
	VPMULLD   Y8, Y3, Y3
	VPMOVZXBD 24(SI), Y7
	VPADDD    Y7, Y3, Y3
	ADDQ      $32, SI
	DECQ      CX
	JNZ       loop

reduce:
	VPMULLD      (AX), Y0, Y0
	VPMULLD      32(AX), Y1, Y1
	VPMULLD      64(AX), Y2, Y2
	VPMULLD      96(AX), Y3, Y3
	VPADDD       Y1, Y0, Y0
	VPADDD       Y3, Y2, Y2
	VPADDD       Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, AX
	VZEROUPPER
	MOVL         AX, ret+32(FP)
	RET
