# The eBPF verifier's suite (tests/unit/test_verifier.c): one small program
# per rule with its verdict, and a randomized soundness check of the
# verifier's scalar domain. Same sources as tests/unit/ebpf.mk.
UNIT_TESTS += verifier
UNIT_SRCS_verifier = tests/unit/test_verifier.c $(EBPF_SRCS)
UNIT_DEPS_verifier = $(EBPF_HOST_HDRS) tests/unit/check.h
UNIT_CFLAGS_verifier := -Wno-missing-field-initializers
