/* The MADT's processor entries, from tables built here: QEMU's shapes
 * (enabled CPUs, a maxcpus= slot that is not enabled), x2APIC entries,
 * and malformed input (short entries, a length past the table, zero
 * length, duplicates, more CPUs than fit). */
#include <stdint.h>
#include <string.h>

#include "kernel/madt_cpus.h"
#include "tests/unit/check.h"

struct table {
	uint8_t b[512];
	uint32_t len;
};

static void start(struct table *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, "APIC", 4);
	t->len = 44;
}

static void lapic(struct table *t, uint8_t uid, uint8_t id, uint32_t flags)
{
	uint8_t *e = t->b + t->len;
	e[0] = 0;
	e[1] = 8;
	e[2] = uid;
	e[3] = id;
	memcpy(e + 4, &flags, 4);
	t->len += 8;
}

static void x2apic(struct table *t, uint32_t id, uint32_t flags, uint32_t uid)
{
	uint8_t *e = t->b + t->len;
	memset(e, 0, 16);
	e[0] = 9;
	e[1] = 16;
	memcpy(e + 4, &id, 4);
	memcpy(e + 8, &flags, 4);
	memcpy(e + 12, &uid, 4);
	t->len += 16;
}

static void ioapic(struct table *t)
{
	uint8_t *e = t->b + t->len;
	memset(e, 0, 12);
	e[0] = 1;
	e[1] = 12;
	t->len += 12;
}

TEST(qemu_maxcpus_slot_listed_not_enabled)
{
	struct table t;
	struct madt_cpu cpus[8];
	struct madt_cpu_list info;

	start(&t);
	lapic(&t, 0, 0, 1);
	lapic(&t, 1, 1, 0); /* -smp 1,maxcpus=2 */
	ioapic(&t);
	CHECK_EQ(madt_cpus_parse(t.b, t.len, cpus, 8, &info), 2);
	CHECK(cpus[0].enabled && cpus[0].apic_id == 0);
	CHECK(!cpus[1].enabled && !cpus[1].online_capable);
	CHECK_EQ(cpus[1].apic_id, 1);
	CHECK_EQ(info.disabled, 1);
	CHECK_EQ(info.bad, 0);
}

TEST(x2apic_entries_and_online_capable)
{
	struct table t;
	struct madt_cpu cpus[8];
	struct madt_cpu_list info;

	start(&t);
	lapic(&t, 0, 0, 1);
	x2apic(&t, 300, 1, 7);
	lapic(&t, 2, 2, 2); /* online capable, not enabled */
	CHECK_EQ(madt_cpus_parse(t.b, t.len, cpus, 8, &info), 3);
	CHECK_EQ(cpus[1].apic_id, 300);
	CHECK_EQ(cpus[1].acpi_uid, 7);
	CHECK(cpus[1].enabled);
	CHECK(!cpus[2].enabled && cpus[2].online_capable);
	CHECK_EQ(info.disabled, 0);
}

TEST(duplicates_kept_once_and_overflow_counted)
{
	struct table t;
	struct madt_cpu cpus[2];
	struct madt_cpu_list info;

	start(&t);
	lapic(&t, 0, 0, 1);
	lapic(&t, 0, 0, 1);
	lapic(&t, 1, 1, 1);
	lapic(&t, 2, 2, 1);
	lapic(&t, 3, 3, 0);
	CHECK_EQ(madt_cpus_parse(t.b, t.len, cpus, 2, &info), 2);
	CHECK_EQ(info.dropped, 1); /* the disabled one is not counted */
}

TEST(malformed_entries_never_read_past_the_table)
{
	struct table t;
	struct madt_cpu cpus[8];
	struct madt_cpu_list info;

	/* A local APIC entry claiming 6 bytes: skipped, parsing goes on. */
	start(&t);
	t.b[t.len] = 0;
	t.b[t.len + 1] = 6;
	t.len += 6;
	lapic(&t, 1, 1, 1);
	CHECK_EQ(madt_cpus_parse(t.b, t.len, cpus, 8, &info), 1);
	CHECK_EQ(info.bad, 1);

	/* Zero length would loop forever: parsing stops. */
	start(&t);
	lapic(&t, 0, 0, 1);
	t.b[t.len] = 0;
	t.b[t.len + 1] = 0;
	t.len += 2;
	CHECK_EQ(madt_cpus_parse(t.b, t.len, cpus, 8, &info), 1);
	CHECK_EQ(info.bad, 1);

	/* The last entry runs past the table's length: not read. Built in
	 * an exact-size heap copy so ASan catches any read beyond it. */
	start(&t);
	lapic(&t, 0, 0, 1);
	x2apic(&t, 5, 1, 5);
	uint32_t cut = t.len - 4;
	uint8_t *copy = malloc(cut);
	memcpy(copy, t.b, cut);
	CHECK_EQ(madt_cpus_parse(copy, cut, cpus, 8, &info), 1);
	CHECK_EQ(info.bad, 1);
	free(copy);

	/* Shorter than the fixed header: nothing. */
	CHECK_EQ(madt_cpus_parse(t.b, 40, cpus, 8, &info), 0);
	CHECK_EQ(madt_cpus_parse(NULL, 100, cpus, 8, &info), 0);
}
