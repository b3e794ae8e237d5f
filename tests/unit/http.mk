# Host tests of the HTTP request handling (services/http_parser.c, HTTP_SRCS of services/services.mk) with llhttp
# compiled for the host from Debian's node-llhttp sources; no lwIP. The
# kernel's heap and logger are stood in for by test_http.c itself (counting
# allocations, injecting failures); ksnprintf is the kernel's own printf.c.
#
#   http       against a fixture site defined in the test
#   http_site  the same request handling against the table tools/gen-www.py
#              generates from www/ (services/services.mk has the rule)
# LLHTTP_SRCS, LLHTTP_INC and WWW_C come from services/services.mk, which the top
# Makefile includes before the unit fragments.

HTTP_TEST_SRCS := tests/unit/test_http.c $(HTTP_SRCS) kernel/printf.c $(KERNEL_TEXT_SRCS) \
	$(LLHTTP_SRCS)
HTTP_TEST_DEPS := services/http.h services/www.h kernel/heap.h \
	kernel/log.h kernel/printf.h tests/unit/check.h
HTTP_TEST_CFLAGS := -I$(LLHTTP_INC) -DLLHTTP_STRICT_MODE=0

UNIT_TESTS += http http_site
UNIT_SRCS_http := $(HTTP_TEST_SRCS)
UNIT_DEPS_http := $(HTTP_TEST_DEPS)
UNIT_CFLAGS_http := $(HTTP_TEST_CFLAGS)
UNIT_SRCS_http_site := $(HTTP_TEST_SRCS) $(WWW_C)
UNIT_DEPS_http_site := $(HTTP_TEST_DEPS)
UNIT_CFLAGS_http_site := $(HTTP_TEST_CFLAGS) -DTEST_REAL_SITE
