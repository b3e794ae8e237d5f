/* Minimal host unit-test harness: CHECK() records, TEST() registers, main()
 * runs every test and ends with the "N passed, N failed" line CI reads. */
#ifndef SKIFF_TESTS_CHECK_H
#define SKIFF_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct check_test {
	const char *name;
	void (*fn)(void);
};

extern int check_failures_in_test;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "  %s:%d: CHECK failed: %s\n",         \
				__FILE__, __LINE__, #cond);                    \
			check_failures_in_test++;                              \
		}                                                              \
	} while (0)

#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		long long check_a_ = (long long)(a),                           \
			  check_b_ = (long long)(b);                           \
		if (check_a_ != check_b_) {                                    \
			fprintf(stderr,                                        \
				"  %s:%d: CHECK_EQ failed: %s == %s "          \
				"(%lld != %lld)\n",                            \
				__FILE__, __LINE__, #a, #b, check_a_,          \
				check_b_);                                     \
			check_failures_in_test++;                              \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *check_a_ = (a), *check_b_ = (b);                   \
		if (strcmp(check_a_, check_b_) != 0) {                         \
			fprintf(stderr,                                        \
				"  %s:%d: CHECK_STR failed: \"%s\" != "        \
				"\"%s\"\n",                                    \
				__FILE__, __LINE__, check_a_, check_b_);       \
			check_failures_in_test++;                              \
		}                                                              \
	} while (0)

/* Tests register themselves through a constructor so a file is just TEST()s. */
void check_register(const char *name, void (*fn)(void));
#define TEST(name)                                                             \
	static void test_##name(void);                                         \
	__attribute__((constructor)) static void register_##name(void)         \
	{                                                                      \
		check_register(#name, test_##name);                            \
	}                                                                      \
	static void test_##name(void)

#endif
