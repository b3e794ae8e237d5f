/* Which encodings are instructions: the RFC 9669 instruction set (cpu
 * v1-v4: the base32, base64, divmul32, divmul64, atomic32 and atomic64
 * conformance groups) as Skiff runs it. The interpreter and the JIT refuse
 * anything else, so an instruction the verifier did not reason about can
 * never be given some other meaning at run time.
 *
 * Beyond the RFC's opcode table this enforces its rule that unused fields
 * are zero, that r10 (the frame pointer) is read-only, and leaves out what
 * Skiff does not run: the legacy packet loads (LD ABS/IND), calls other
 * than to a helper by number (program-local calls, helpers by BTF id) and
 * 64-bit immediate loads other than a plain constant or a map index. */
#include "ebpf/ebpf.h"

#define EBPF_MEMSX_MODE 0x80

static const char *check_alu(const struct ebpf_insn *in)
{
	uint8_t c = in->code, op = EBPF_OP(c);
	bool is64 = EBPF_CLASS(c) == EBPF_ALU64, x = EBPF_SRC(c) == EBPF_X;

	if (op > EBPF_END)
		return "unknown ALU operation";
	if (in->dst == 10)
		return "r10 is read-only";
	if (op == EBPF_END) {
		if (is64 && x)
			return "ALU64 byte swap with the source bit set";
		if (in->imm != 16 && in->imm != 32 && in->imm != 64)
			return "byte swap width not 16, 32 or 64";
		if (in->src || in->off)
			return "byte swap with src or offset set";
		return NULL;
	}
	if (op == EBPF_NEG) {
		if (x || in->src || in->imm || in->off)
			return "neg with a source, imm or offset";
		return NULL;
	}
	if (x ? in->imm != 0 : in->src != 0)
		return x ? "register form with imm set"
			 : "imm form with src set";
	if (in->off == 0)
		return NULL;
	if ((op == EBPF_DIV || op == EBPF_MOD) && in->off == 1)
		return NULL; /* sdiv, smod */
	if (op == EBPF_MOV && x &&
	    (in->off == 8 || in->off == 16 || (is64 && in->off == 32)))
		return NULL; /* movsx */
	return "ALU offset not zero";
}

static const char *check_jmp(const struct ebpf_insn *in)
{
	uint8_t c = in->code, op = EBPF_OP(c);
	bool is64 = EBPF_CLASS(c) == EBPF_JMP, x = EBPF_SRC(c) == EBPF_X;

	if (op > EBPF_JSLE)
		return "unknown jump operation";
	switch (op) {
	case EBPF_JA:
		if (x || in->src || in->dst || (is64 ? in->imm : in->off))
			return "ja with reserved fields set";
		return NULL;
	case EBPF_CALL:
		if (!is64 || x || in->dst || in->off)
			return "malformed call";
		if (in->src)
			return "only calls to helpers by number are supported";
		return NULL;
	case EBPF_EXIT:
		if (!is64 || x || in->dst || in->src || in->off || in->imm)
			return "malformed exit";
		return NULL;
	default:
		if (x ? in->imm != 0 : in->src != 0)
			return x ? "register form with imm set"
				 : "imm form with src set";
		return NULL;
	}
}

static const char *check_ld_imm64(const struct ebpf_insn *in,
				  const struct ebpf_insn *next)
{
	if (in->code != (EBPF_LD | EBPF_IMM | EBPF_DW))
		return "not a 64-bit immediate load (legacy packet loads are "
		       "not supported)";
	if (!next)
		return "64-bit immediate load without its second half";
	if (next->code || next->dst || next->src || next->off)
		return "bad second half of a 64-bit immediate load";
	if (in->dst == 10)
		return "r10 is read-only";
	if (in->off)
		return "64-bit immediate load with an offset";
	if (in->src == EBPF_PSEUDO_MAP_FD) {
		if ((uint32_t)in->imm >= EBPF_MAX_MAPS || next->imm)
			return "bad map index";
		return NULL;
	}
	if (in->src)
		return "unsupported 64-bit immediate load kind";
	return NULL;
}

static const char *check_atomic(const struct ebpf_insn *in)
{
	uint8_t size = EBPF_SIZE(in->code);

	if (size != EBPF_W && size != EBPF_DW)
		return "atomic operation on 1 or 2 bytes";
	switch (in->imm) {
	case EBPF_ADD:
	case EBPF_OR:
	case EBPF_AND:
	case EBPF_XOR:
		return NULL;
	case EBPF_ADD | EBPF_FETCH:
	case EBPF_OR | EBPF_FETCH:
	case EBPF_AND | EBPF_FETCH:
	case EBPF_XOR | EBPF_FETCH:
	case EBPF_XCHG:
		/* These write the old value into src. */
		return in->src == 10 ? "r10 is read-only" : NULL;
	case EBPF_CMPXCHG:
		return NULL;
	default:
		return "unknown atomic operation";
	}
}

const char *ebpf_insn_invalid(const struct ebpf_insn *in,
			      const struct ebpf_insn *next)
{
	uint8_t c = in->code, mode = EBPF_MODE(c), size = EBPF_SIZE(c);

	if (in->dst > 10 || in->src > 10)
		return "register number above r10";
	switch (EBPF_CLASS(c)) {
	case EBPF_ALU:
	case EBPF_ALU64:
		return check_alu(in);
	case EBPF_JMP:
	case EBPF_JMP32:
		return check_jmp(in);
	case EBPF_LD:
		return check_ld_imm64(in, next);
	case EBPF_LDX:
		if (mode != EBPF_MEM &&
		    !(mode == EBPF_MEMSX_MODE && size != EBPF_DW))
			return "unknown load mode";
		if (in->imm)
			return "load with imm set";
		if (in->dst == 10)
			return "r10 is read-only";
		return NULL;
	case EBPF_ST:
		if (mode != EBPF_MEM)
			return "unknown store mode";
		if (in->src)
			return "store immediate with src set";
		return NULL;
	default: /* EBPF_STX */
		if (mode == EBPF_ATOMIC)
			return check_atomic(in);
		if (mode != EBPF_MEM)
			return "unknown store mode";
		if (in->imm)
			return "store with imm set";
		return NULL;
	}
}
