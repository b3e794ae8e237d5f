/* The processors the ACPI MADT lists: Processor Local APIC (type 0) and
 * Processor Local x2APIC (type 9) entries. The table is firmware input and
 * is treated as untrusted: every entry length is checked against the table
 * and against the entry's type before a field is read. */
#ifndef SKIFF_KERNEL_MADT_CPUS_H
#define SKIFF_KERNEL_MADT_CPUS_H

#include <stdbool.h>
#include <stdint.h>

struct madt_cpu {
	uint32_t apic_id;
	uint32_t acpi_uid;
	/* Disabled entries are listed too: QEMU's maxcpus= gives each
	 * possible-but-absent CPU one with neither bit set. */
	bool enabled;
	bool online_capable;
};

struct madt_cpu_list {
	unsigned n;	   /* entries stored in cpus[] */
	unsigned dropped;  /* enabled CPUs beyond the array */
	unsigned bad;	   /* malformed entries skipped (wrong length) */
	unsigned disabled; /* entries with neither enabled nor capable */
};

/* Parses the MADT at table (len bytes as the caller validated, i.e. the
 * header's length after its checksum passed). Fills up to max entries;
 * an APIC ID listed twice is kept once. Returns the number stored. */
unsigned madt_cpus_parse(const void *table, uint32_t len, struct madt_cpu *cpus,
			 unsigned max, struct madt_cpu_list *info);

#endif
