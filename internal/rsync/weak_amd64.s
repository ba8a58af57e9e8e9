//go:build amd64 && !purego

#include "textflag.h"

// func weakBlocksAVX2(h uint32, p []byte, pow *[34]uint32) uint32
//
// With K = len(p)/32 steps of 32 bytes q^(k), a lane-wise Horner chain
// A <- A*M^32 + q^(k)[8j+l] in lane l of accumulator j ends as
// sum_k q^(k)[8j+l] * M^(32(K-1-k)). Byte 8j+l of a step weighs M^(31-8j-l)
// in the sum, so the lanes are multiplied by those weights and added up.
// h starts in a lane of weight 1, and so ends as h*M^(32K).
//
// The main loop runs 8 such chains over 64-byte steps (A <- A*M^64 + ...),
// as VPMULLD's latency leaves 4 chains waiting; folding chain j+4 into
// chain j (A_j*M^32 + A_(j+4)) then gives the 4 chains of 32-byte steps,
// which take the last 32 bytes if there are.
TEXT ·weakBlocksAVX2(SB), NOSPLIT, $0-44
	MOVQ p_base+8(FP), SI
	MOVQ p_len+16(FP), CX
	MOVQ pow+32(FP), AX
	VPBROADCASTD 128(AX), Y9
	VPBROADCASTD 132(AX), Y8
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	MOVL h+0(FP), DX
	VMOVD DX, X7
	VPBROADCASTD X7, Y7
	VPBLENDD $0x80, Y7, Y0, Y7
	MOVQ CX, DX
	SHRQ $6, DX
	JZ   fold

loop64:
	VPMULLD   Y8, Y0, Y0
	VPMOVZXBD (SI), Y10
	VPADDD    Y10, Y0, Y0
	VPMULLD   Y8, Y1, Y1
	VPMOVZXBD 8(SI), Y11
	VPADDD    Y11, Y1, Y1
	VPMULLD   Y8, Y2, Y2
	VPMOVZXBD 16(SI), Y12
	VPADDD    Y12, Y2, Y2
	VPMULLD   Y8, Y3, Y3
	VPMOVZXBD 24(SI), Y13
	VPADDD    Y13, Y3, Y3
	VPMULLD   Y8, Y4, Y4
	VPMOVZXBD 32(SI), Y10
	VPADDD    Y10, Y4, Y4
	VPMULLD   Y8, Y5, Y5
	VPMOVZXBD 40(SI), Y11
	VPADDD    Y11, Y5, Y5
	VPMULLD   Y8, Y6, Y6
	VPMOVZXBD 48(SI), Y12
	VPADDD    Y12, Y6, Y6
	VPMULLD   Y8, Y7, Y7
	VPMOVZXBD 56(SI), Y13
	VPADDD    Y13, Y7, Y7
	ADDQ      $64, SI
	DECQ      DX
	JNZ       loop64

fold:
	VPMULLD Y9, Y0, Y0
	VPADDD  Y4, Y0, Y0
	VPMULLD Y9, Y1, Y1
	VPADDD  Y5, Y1, Y1
	VPMULLD Y9, Y2, Y2
	VPADDD  Y6, Y2, Y2
	VPMULLD Y9, Y3, Y3
	VPADDD  Y7, Y3, Y3
	TESTQ   $32, CX
	JZ      reduce
	VPMULLD   Y9, Y0, Y0
	VPMOVZXBD (SI), Y10
	VPADDD    Y10, Y0, Y0
	VPMULLD   Y9, Y1, Y1
	VPMOVZXBD 8(SI), Y11
	VPADDD    Y11, Y1, Y1
	VPMULLD   Y9, Y2, Y2
	VPMOVZXBD 16(SI), Y12
	VPADDD    Y12, Y2, Y2
	VPMULLD   Y9, Y3, Y3
	VPMOVZXBD 24(SI), Y13
	VPADDD    Y13, Y3, Y3

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
	MOVL         AX, ret+40(FP)
	RET
