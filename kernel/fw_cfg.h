/* QEMU's fw_cfg device (I/O ports 0x510/0x511): named files the host passes
 * with -fw_cfg name=opt/...,string=... */
#ifndef SKIFF_KERNEL_FW_CFG_H
#define SKIFF_KERNEL_FW_CFG_H

#include <stddef.h>

/* Copies the file into buf (NUL-terminated, truncated to cap - 1); returns
 * its full size or -1 if there is no fw_cfg or no such file. */
int fw_cfg_read_file(const char *name, char *buf, size_t cap);

#endif
