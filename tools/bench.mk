# Benchmark: Skiff against a Linux guest on the same QEMU (tests/bench/README.md).
# -include'd by the Makefile, after `all` and PYTHON are defined.
#
#   make bench            full run: Skiff irq, poll, hybrid, XDP and Linux
#                         (stock, tuned, native XDP), 5 rounds, ~1-1.5 h
#   make bench QUICK=1    Skiff hybrid, XDP and Linux, 3 rounds, ~15-25 min
#   make bench-report     latest run's table + plot into README.md (markers
#                         <!-- bench:start --> / <!-- bench:end -->), plot to
#                         tests/bench/latest.png
#   make bench-smoke      the harness on a tiny scale (what `make test` runs)
#   make bench-insns      only Skiff's instruction counts and per-function
#                         profile (skiff-irq, xdp-jit; a few minutes)
#
# Also honoured: ROUNDS, MODES=irq,poll,hybrid, DURATION (s per wrk/ab run),
# MEM, ACCEL=tcg|kvm, LINUX_FW=ovmf|seabios, LINUX=stock,tuned, CPU, PIN,
# XDP, INSNS=0, CHURN, BOOT_ROUNDS, BOOT_WAYS, MEM_SEARCH, SMP_BENCH=0,
# SMP_ROUNDS
# (tests/bench/README.md). Instruction counts need qemu-plugin.h, which
# tools/fetch-qemu-plugin-h.sh takes from Debian's QEMU source package.

PYTHON ?= python3
BENCH_QUICK := $(if $(filter-out 0,$(QUICK)),--quick)

.PHONY: bench bench-report bench-smoke bench-insns
bench: all
	@tools/setup.sh bench
	@$(PYTHON) tests/bench/bench.py --no-make $(BENCH_QUICK)

bench-report:
	@$(PYTHON) tests/bench/report.py

bench-smoke: all
	@tools/setup.sh bench
	@$(PYTHON) tests/bench/test_harness.py

bench-insns: all
	@tools/setup.sh bench
	@$(PYTHON) tests/bench/insn_profile.py
