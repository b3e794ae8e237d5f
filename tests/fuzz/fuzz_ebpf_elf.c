/* libFuzzer target for the eBPF loader and verifier (ebpf/elf.c,
 * verifier.c, maps.c): any byte string must be either rejected with a
 * reason or loaded into a program that verifies again; nothing may read
 * outside the input (ASan) or leak (LeakSanitizer). `make fuzz-ebpf`; the
 * seeds are the shipped programs and the test corpus. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf/ebpf.h"

uint64_t clock_ns(void)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly size bytes, so ASan sees any overread. */
	uint8_t *copy = malloc(size ? size : 1);
	struct ebpf_prog *p = NULL;
	char err[160];
	int rc;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	rc = ebpf_load_elf(copy, size, NULL, &p, err, sizeof(err));
	if (rc == 0) {
		if (!p || ebpf_verify(p, err, sizeof(err)) != 0) {
			fprintf(stderr,
				"loaded program fails re-verification: %s\n",
				err);
			abort();
		}
		ebpf_prog_free(p);
	} else if (p || !err[0] || !memchr(err, 0, sizeof(err))) {
		abort();
	}
	free(copy);
	return 0;
}
