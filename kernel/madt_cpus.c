/* MADT processor entries (ACPI 6.5, 5.2.12.2 and 5.2.12.12). */
#include <string.h>

#include "kernel/madt_cpus.h"

#define MADT_ENTRIES_OFFSET 44 /* header (36) + local APIC address + flags */
#define MADT_LOCAL_APIC	    0
#define MADT_LOCAL_X2APIC   9
#define LAPIC_ENABLED	    (1u << 0)
#define LAPIC_ONLINE_CAP    (1u << 1)

static bool seen(const struct madt_cpu *cpus, unsigned n, uint32_t apic_id)
{
	for (unsigned i = 0; i < n; i++)
		if (cpus[i].apic_id == apic_id)
			return true;
	return false;
}

unsigned madt_cpus_parse(const void *table, uint32_t len, struct madt_cpu *cpus,
			 unsigned max, struct madt_cpu_list *info)
{
	const uint8_t *base = table;
	uint32_t off = MADT_ENTRIES_OFFSET;

	memset(info, 0, sizeof(*info));
	if (!table || len < MADT_ENTRIES_OFFSET)
		return 0;
	while (off + 2 <= len) {
		const uint8_t *e = base + off;
		uint8_t type = e[0], elen = e[1];
		uint32_t apic_id, uid, flags;

		if (elen < 2 || elen > len - off) {
			info->bad++; /* cannot step over it: stop */
			break;
		}
		off += elen;
		if (type == MADT_LOCAL_APIC) {
			if (elen < 8) {
				info->bad++;
				continue;
			}
			uid = e[2];
			apic_id = e[3];
			memcpy(&flags, e + 4, 4);
		} else if (type == MADT_LOCAL_X2APIC) {
			if (elen < 16) {
				info->bad++;
				continue;
			}
			memcpy(&apic_id, e + 4, 4);
			memcpy(&flags, e + 8, 4);
			memcpy(&uid, e + 12, 4);
		} else {
			continue;
		}
		if (!(flags & (LAPIC_ENABLED | LAPIC_ONLINE_CAP)))
			info->disabled++;
		if (seen(cpus, info->n, apic_id))
			continue;
		if (info->n == max) {
			if (flags & LAPIC_ENABLED)
				info->dropped++;
			continue;
		}
		cpus[info->n++] = (struct madt_cpu){
		    .apic_id = apic_id,
		    .acpi_uid = uid,
		    .enabled = flags & LAPIC_ENABLED,
		    .online_capable = flags & LAPIC_ONLINE_CAP,
		};
	}
	return info->n;
}
