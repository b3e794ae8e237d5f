# Benchmark: Skiff against a Linux guest on the same QEMU (tests/bench/README.md).
# -include'd by the Makefile, after `all` and PYTHON are defined.
#
#   make bench            full run: Skiff irq, poll, hybrid and Linux, 3 rounds
#   make bench QUICK=1    a few minutes: Skiff hybrid and Linux, 3 rounds
#   make bench-report     latest run's table + plot into README.md (markers
#                         <!-- bench:start --> / <!-- bench:end -->), plot to
#                         tests/bench/latest.png
#   make bench-smoke      the harness on a tiny scale (what `make test` runs)
#
# Also honoured: ROUNDS, MODES=irq,poll,hybrid, DURATION (s per wrk/ab run),
# MEM, ACCEL=tcg|kvm, LINUX_FW=ovmf|seabios.

PYTHON ?= python3
BENCH_QUICK := $(if $(filter-out 0,$(QUICK)),--quick)

.PHONY: bench bench-report bench-smoke
bench: all
	@tools/setup.sh bench
	@$(PYTHON) tests/bench/bench.py --no-make $(BENCH_QUICK)

bench-report:
	@$(PYTHON) tests/bench/report.py

bench-smoke: all
	@tools/setup.sh bench
	@$(PYTHON) tests/bench/test_harness.py
