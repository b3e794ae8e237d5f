/* Runs every registered test; each test counts as one pass or one failure. */
#include "tests/unit/check.h"

#define CHECK_MAX_TESTS 512

int check_failures_in_test;
static struct check_test tests[CHECK_MAX_TESTS];
static int ntests;

void check_register(const char *name, void (*fn)(void))
{
	if (ntests == CHECK_MAX_TESTS) {
		fprintf(stderr, "too many tests\n");
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	const char *only = argc > 1 ? argv[1] : NULL;

	for (int i = 0; i < ntests; i++) {
		if (only && !strstr(tests[i].name, only))
			continue;
		check_failures_in_test = 0;
		tests[i].fn();
		if (check_failures_in_test) {
			printf("FAIL %s\n", tests[i].name);
			failed++;
		} else {
			printf("ok   %s\n", tests[i].name);
			passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
