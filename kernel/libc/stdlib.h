/* <stdlib.h> for the kernel: the heap (kernel/heap.c) behind the libc names. */
#ifndef SKIFF_LIBC_STDLIB_H
#define SKIFF_LIBC_STDLIB_H

#include <stddef.h>

void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);
int abs(int x);
long strtol(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);
int atoi(const char *s);
__attribute__((noreturn)) void abort(void);

#endif
