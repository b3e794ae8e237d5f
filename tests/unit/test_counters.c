/* The counter emitters of kernel/counters.c, the Prometheus one above all:
 * family names, kinds, units, dimensions as labels, instances, escaping,
 * families kept together when a table scatters them, and truncation. The
 * JSON and text emitters are pinned through every /stats member elsewhere
 * (test_virtio_net.c, test_http.c). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernel/counters.h"
#include "kernel/kbuf.h"
#include "tests/unit/check.h"

struct demo {
	uint64_t frames;
	uint32_t in_use;
	bool up;
	uint64_t drops_short;
	uint64_t hist[3];
	uint32_t timeout_ms;
	uint32_t total;
	uint64_t drops_long; /* of the drops group, though not next to it */
	uint16_t rate_per_s;
	uint8_t idle_s;
};

static const struct counter_desc demo_desc[] = {
    COUNTER(U64, struct demo, frames, "rx.frames"),
    GAUGE(U32, struct demo, in_use, "in_use"),
    COUNTER(BOOL, struct demo, up, "up"),
    COUNTER(U64, struct demo, drops_short, "drops.short"),
    COUNTER_ARRAY(U64, struct demo, hist, 3, "hist"),
    GAUGE(U32, struct demo, timeout_ms, "limits.timeout_ms"),
    GAUGE(U32, struct demo, total, "total"),
    COUNTER(U64, struct demo, drops_long, "drops.long"),
    GAUGE(U16, struct demo, rate_per_s, "rate_per_s"),
    GAUGE(U8, struct demo, idle_s, "idle_s"),
};

static const struct counter_dim demo_dims[] = {
    {"drops.", "reason"},
    {"hist.", "bucket"},
};

static const struct demo demo_a = {
    .frames = 12345678901ull,
    .in_use = 7,
    .up = true,
    .drops_short = 3,
    .hist = {1, 2, 3},
    .timeout_ms = 15250,
    .total = 1024,
    .drops_long = 4,
    .rate_per_s = 65535,
    .idle_s = 9,
};

static int prom(char *buf, size_t cap, const struct counters_prom *p)
{
	struct kbuf b = {buf, cap, 0};

	if (cap)
		buf[0] = '\0';
	counters_prom(&b, demo_desc, COUNTERS_LEN(demo_desc), p);
	return kbuf_finish(&b);
}

static const char demo_expected[] =
    "# HELP skiff_demo_rx_frames_total /stats demo.rx.frames\n"
    "# TYPE skiff_demo_rx_frames_total counter\n"
    "skiff_demo_rx_frames_total 12345678901\n"
    "# HELP skiff_demo_in_use /stats demo.in_use\n"
    "# TYPE skiff_demo_in_use gauge\n"
    "skiff_demo_in_use 7\n"
    "# HELP skiff_demo_up /stats demo.up\n"
    "# TYPE skiff_demo_up gauge\n"
    "skiff_demo_up 1\n"
    "# HELP skiff_demo_drops_total /stats demo.drops.<reason>\n"
    "# TYPE skiff_demo_drops_total counter\n"
    "skiff_demo_drops_total{reason=\"short\"} 3\n"
    "skiff_demo_drops_total{reason=\"long\"} 4\n"
    "# HELP skiff_demo_hist_total /stats demo.hist[<bucket>]\n"
    "# TYPE skiff_demo_hist_total counter\n"
    "skiff_demo_hist_total{bucket=\"0\"} 1\n"
    "skiff_demo_hist_total{bucket=\"1\"} 2\n"
    "skiff_demo_hist_total{bucket=\"2\"} 3\n"
    "# HELP skiff_demo_limits_timeout_seconds /stats demo.limits.timeout_ms "
    "(milliseconds there)\n"
    "# TYPE skiff_demo_limits_timeout_seconds gauge\n"
    "skiff_demo_limits_timeout_seconds 15.250\n"
    "# HELP skiff_demo_all /stats demo.total\n"
    "# TYPE skiff_demo_all gauge\n"
    "skiff_demo_all 1024\n"
    "# HELP skiff_demo_rate_per_second /stats demo.rate_per_s\n"
    "# TYPE skiff_demo_rate_per_second gauge\n"
    "skiff_demo_rate_per_second 65535\n"
    "# HELP skiff_demo_idle_seconds /stats demo.idle_s\n"
    "# TYPE skiff_demo_idle_seconds gauge\n"
    "skiff_demo_idle_seconds 9\n";

TEST(prom_one_struct_pinned)
{
	const void *bases[] = {&demo_a};
	struct counters_prom p = {
	    .prefix = "skiff_demo",
	    .json_path = "demo",
	    .dims = demo_dims,
	    .ndims = COUNTERS_LEN(demo_dims),
	    .bases = bases,
	    .ninst = 1,
	};
	char buf[4096];
	int n = prom(buf, sizeof(buf), &p);

	CHECK_STR(buf, demo_expected);
	CHECK_EQ(n, strlen(demo_expected));
}

/* Without dimensions an array is labelled by index and a group's entries
 * are families of their own. */
TEST(prom_without_dims)
{
	const void *bases[] = {&demo_a};
	struct counters_prom p = {
	    .prefix = "x", .json_path = "", .bases = bases, .ninst = 1};
	char buf[4096];

	prom(buf, sizeof(buf), &p);
	CHECK(strstr(buf, "x_hist_total{index=\"2\"} 3\n"));
	CHECK(strstr(buf, "# TYPE x_drops_short_total counter\n"
			  "x_drops_short_total 3\n"));
	CHECK(strstr(buf, "x_drops_long_total 4\n"));
	CHECK(strstr(buf, "# HELP x_in_use /stats in_use\n"));
}

/* Instances: every family lists all of them before the next family starts
 * (a format requirement), with fixed labels first. */
TEST(prom_instances_grouped_per_family)
{
	struct demo b = demo_a;
	b.frames = 5;
	b.drops_long = 6;
	const void *bases[] = {&demo_a, &b};
	const char *const names[] = {"eth0", "we\"ird\\\nname"};
	struct counters_prom p = {
	    .prefix = "s",
	    .json_path = "d.<nic>",
	    .dims = demo_dims,
	    .ndims = 1,
	    .labels = "cpu=\"0\"",
	    .bases = bases,
	    .inst_names = names,
	    .inst_label = "nic",
	    .ninst = 2,
	};
	char buf[8192];

	prom(buf, sizeof(buf), &p);
	CHECK(strstr(buf,
		     "# HELP s_rx_frames_total /stats d.<nic>.rx.frames\n"
		     "# TYPE s_rx_frames_total counter\n"
		     "s_rx_frames_total{cpu=\"0\",nic=\"eth0\"} "
		     "12345678901\n"
		     "s_rx_frames_total{cpu=\"0\",nic=\"we\\\"ird\\\\\\nname\"}"
		     " 5\n# HELP s_in_use"));
	CHECK(strstr(buf,
		     "s_drops_total{cpu=\"0\",nic=\"eth0\",reason=\"short\"}"
		     " 3\n"
		     "s_drops_total{cpu=\"0\",nic=\"eth0\",reason=\"long\"} 4\n"
		     "s_drops_total{cpu=\"0\",nic=\"we\\\"ird\\\\\\nname\","
		     "reason=\"short\"} 3\n"));
	/* Each family's TYPE exactly once. */
	const char *first = strstr(buf, "# TYPE s_drops_total");
	CHECK(first && !strstr(first + 1, "# TYPE s_drops_total"));
}

/* A short buffer: never written past, NUL-terminated, and the returned
 * length is the whole document's. */
TEST(prom_truncates_like_snprintf)
{
	const void *bases[] = {&demo_a};
	struct counters_prom p = {
	    .prefix = "skiff_demo",
	    .json_path = "demo",
	    .dims = demo_dims,
	    .ndims = COUNTERS_LEN(demo_dims),
	    .bases = bases,
	    .ninst = 1,
	};
	for (size_t cap = 0; cap < sizeof(demo_expected) + 2; cap += 37) {
		char buf[sizeof(demo_expected) + 16];
		memset(buf, 'Z', sizeof(buf));
		int n = prom(buf, cap, &p);

		CHECK_EQ(n, strlen(demo_expected));
		if (cap) {
			size_t got = strlen(buf);
			CHECK_EQ(got,
				 cap - 1 < (size_t)n ? cap - 1 : (size_t)n);
			CHECK(memcmp(buf, demo_expected, got) == 0);
		}
		CHECK(buf[cap] == 'Z' || cap == 0);
	}
}

TEST(prom_label_escapes)
{
	char buf[64];
	struct kbuf b = {buf, sizeof(buf), 0};

	counters_prom_label(&b, "a", "x\"y\\z\n", 1);
	counters_prom_label(&b, "b", "", 0);
	kbuf_finish(&b);
	CHECK_STR(buf, "a=\"x\\\"y\\\\z\\n\",b=\"\"");
}

/* The kind does not change the other emitters. */
TEST(json_and_text_ignore_kind)
{
	char buf[1024];

	counters_json(buf, sizeof(buf), demo_desc, 3, &demo_a);
	CHECK_STR(buf, "{\"rx\":{\"frames\":12345678901},\"in_use\":7,"
		       "\"up\":true}");
	struct kbuf b = {buf, sizeof(buf), 0};
	counters_text_members(&b, demo_desc, COUNTERS_LEN(demo_desc), &demo_a,
			      "drops.");
	kbuf_finish(&b);
	CHECK_STR(buf, " short 3 long 4");
}
