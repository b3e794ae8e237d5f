/* fw_cfg over the legacy I/O ports. Items are selected by a 16-bit key and
 * then read byte by byte; the file directory (key 0x19) lists named files
 * with big-endian sizes and keys. */
#include <stdint.h>
#include <string.h>

#include "kernel/cpu.h"
#include "kernel/fw_cfg.h"

#define FW_CFG_SELECTOR	 0x510
#define FW_CFG_DATA	 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_FILE_DIR	 0x0019

static void read_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < n; i++)
		p[i] = inb(FW_CFG_DATA);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

int fw_cfg_read_file(const char *name, char *buf, size_t cap)
{
	uint8_t sig[4], count[4];

	outw(FW_CFG_SELECTOR, FW_CFG_SIGNATURE);
	read_bytes(sig, 4);
	if (memcmp(sig, "QEMU", 4))
		return -1;
	outw(FW_CFG_SELECTOR, FW_CFG_FILE_DIR);
	read_bytes(count, 4);
	uint32_t n = be32(count);
	for (uint32_t i = 0; i < n && i < 4096; i++) {
		uint8_t ent[64]; /* size(4) select(2) reserved(2) name(56) */
		read_bytes(ent, sizeof(ent));
		if (strncmp((const char *)ent + 8, name, 56))
			continue;
		uint32_t size = be32(ent);
		uint16_t key = (uint16_t)(ent[4] << 8 | ent[5]);
		size_t take = size < cap - 1 ? size : cap - 1;
		outw(FW_CFG_SELECTOR, key);
		read_bytes(buf, take);
		buf[take] = '\0';
		return (int)size;
	}
	return -1;
}
