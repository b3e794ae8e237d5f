/* The checked-access build of the interpreter for the verifier fuzzer
 * (tests/fuzz/fuzz_verifier.c): interp.c includes this file when it is
 * compiled with -DEBPF_INTERP_HOOKS='"fuzz_verifier_hooks.h"'. Every load,
 * store, atomic and helper memory argument is checked against the regions
 * the program may touch (packet, stack, map values, context), and the run
 * has an instruction budget. */
#ifndef SKIFF_FUZZ_VERIFIER_HOOKS_H
#define SKIFF_FUZZ_VERIFIER_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

int fz_access_ok(uint64_t fp, uint64_t addr, uint64_t size, bool write);
int fz_call_ok(uint64_t fp, int32_t id, const uint64_t *regs);

#define EBPF_INTERP_CHECK_ACCESS(fp, addr, size, write)                        \
	fz_access_ok(fp, addr, size, write)
#define EBPF_INTERP_CHECK_CALL(fp, id, regs) fz_call_ok(fp, id, regs)
/* Far more than any loop-free program of EBPF_MAX_INSNS can take; a
 * bounded loop the verifier walked fits as well. */
#define EBPF_INTERP_MAX_STEPS (1u << 22)

#endif
