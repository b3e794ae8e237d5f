/* See bpf_obj.h. Built into each test whose .mk defines
 * EBPF_TEST_OBJDIR. */
#include "tests/unit/bpf_obj.h"

#include <stdio.h>
#include <stdlib.h>

uint8_t *bpf_obj_read(const char *name, size_t *len)
{
	char path[256];
	uint8_t *b = NULL;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s.o", EBPF_TEST_OBJDIR, name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "  cannot open %s\n", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n)) != NULL) {
		if (fread(b, 1, (size_t)n, f) == (size_t)n) {
			*len = (size_t)n;
		} else {
			free(b);
			b = NULL;
		}
	}
	fclose(f);
	if (!b)
		fprintf(stderr, "  cannot read %s\n", path);
	return b;
}
