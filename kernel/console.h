/* The serial console on COM1 (16550 UART at 0x3f8, 115200 8N1). */
#ifndef SKIFF_KERNEL_CONSOLE_H
#define SKIFF_KERNEL_CONSOLE_H

#include <stddef.h>

void console_init(void);
void console_write(const char *s, size_t n);
void console_puts(const char *s);
/* From now on writes take no lock (the panicking CPU, alone). */
void console_panic(void);

#endif
