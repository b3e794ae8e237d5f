/* The part of <string.h> the kernel, lwIP and llhttp use (string.c). */
#ifndef SKIFF_LIBC_STRING_H
#define SKIFF_LIBC_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);
size_t strlcpy(char *dst, const char *src, size_t size);
int strcasecmp(const char *a, const char *b);
int strncasecmp(const char *a, const char *b, size_t n);

/* -ffreestanding turns gcc's builtins off, so every memcpy of a MAC
 * address, every strlen of a literal and every strcmp against one was a
 * call and a loop. Through __builtin_* gcc folds what it knows at compile
 * time (constant lengths become a few moves, strlen("...") a constant)
 * and calls the functions above for the rest. string.c defines them, so
 * it sees the plain declarations. */
#ifndef SKIFF_LIBC_STRING_IMPL
#define memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#define memset(d, c, n) __builtin_memset((d), (c), (n))
#define memcmp(a, b, n) __builtin_memcmp((a), (b), (n))
#define strlen(s)	__builtin_strlen((s))
#define strcmp(a, b)	__builtin_strcmp((a), (b))
#endif

#endif
