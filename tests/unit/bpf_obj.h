/* The clang-built BPF objects the host tests load (xdp/NAME.bpf.c and
 * tests/unit/bpf/NAME.bpf.c, compiled into EBPF_TEST_OBJDIR by
 * tests/unit/ebpf.mk): one reader for every test that needs the bytes. */
#ifndef SKIFF_TESTS_UNIT_BPF_OBJ_H
#define SKIFF_TESTS_UNIT_BPF_OBJ_H

#include <stddef.h>
#include <stdint.h>

/* EBPF_TEST_OBJDIR/name.o read whole into a malloc'd buffer (*len its
 * size; the caller frees it), or NULL with the reason on stderr. */
uint8_t *bpf_obj_read(const char *name, size_t *len);

#endif
