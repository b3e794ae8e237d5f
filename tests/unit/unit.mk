# Host unit tests. Each tests/unit/<area>.mk adds a test program:
#   UNIT_TESTS += foo
#   UNIT_SRCS_foo := tests/unit/test_foo.c kernel/foo.c
# and it is built with the host compiler and sanitizers, linked with the
# shared harness (check_main.c), and run by `make unit`.
