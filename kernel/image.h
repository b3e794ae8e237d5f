/* Where our own image sits in memory, from the linker script's symbols. */
#ifndef SKIFF_KERNEL_IMAGE_H
#define SKIFF_KERNEL_IMAGE_H

#include <stdint.h>

extern char ImageBase[], __text_start[], __text_end[], __rodata_start[],
    __rodata_end[], __data_start[], __data_end[], __image_end[];

static inline uint64_t image_base(void)
{
	return (uint64_t)ImageBase;
}

#endif
