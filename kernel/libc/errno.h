/* <errno.h> for the kernel: the codes of kerrno.h and a single errno. */
#ifndef SKIFF_LIBC_ERRNO_H
#define SKIFF_LIBC_ERRNO_H

#include "kernel/kerrno.h"

extern int errno;

#endif
