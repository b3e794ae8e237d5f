# Skiff: a bare-metal x86-64 unikernel network appliance.
#
#   make            build build/skiff.efi (UEFI app), build/skiff.elf (gdb)
#                   and build/skiff-pvh.elf (direct boot: qemu -kernel)
#   make run        boot it in QEMU with OVMF (serial console on this terminal)
#   make iso        build/skiff.iso: GRUB (EFI) chainloading the same image
#   make run-iso    boot the ISO
#   make disk       build/skiff.img (raw GPT disk, one EFI system partition)
#                   and build/skiff.qcow2; CMDLINE= goes in EFI/skiff/cmdline
#   make run-disk   boot build/skiff.qcow2 under OVMF (DISK= another image)
#   make fleet N=3  N appliances under libvirt behind HAProxy, all inside a
#                   network namespace (tools/fleet.py); make fleet-down
#   make fleet-test the fleet under wrk, one appliance destroyed and back
#   make debug      boot under QEMU -s -S and print the gdb command
#   make test       host unit tests + QEMU integration tests
#   make unit       host unit tests only
#   make check-layers  includes only go down the layers (tools/layers.txt)
#   make check-format  every .c/.h is as clang-format makes it (make format)
#
# Every target that needs Debian packages calls tools/setup.sh first; as root
# it installs what is missing, otherwise it prints the apt-get line and stops.

BUILD    := build
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
CC       ?= gcc
HOSTCC   ?= gcc
LD       := ld
OBJCOPY  := objcopy
PYTHON   ?= python3

EFI_INC  := /usr/include/efi
EFI_LIB  := /usr/lib
EFI_CRT0 := $(EFI_LIB)/crt0-efi-x86_64.o

# One include root: every header of ours is included by its path from the
# repository root ("drivers/virtio_net.h"), so each include line names the
# layer; generated headers by their path under $(BUILD) ("gen/version.h").
# The other two are not ours to name: kernel/libc holds the freestanding
# <string.h> & co., and lwip-port holds lwipopts.h and arch/cc.h, which
# lwIP's headers include by bare name. tools/check-layers.py checks it.
INCLUDE_ROOTS := -I. -I$(BUILD) -Ikernel/libc -Ilwip-port

# Kernel code: freestanding, no SSE (interrupts do not save vector state), a
# frame pointer for the panic backtrace, PIC because UEFI relocates the image.
# Hidden visibility: one image, nothing is interposed or exported, so every
# global is reached PC-relative instead of through the GOT, and the compiler
# may inline a global function into its own file's callers (-fpic alone
# assumes interposition and does neither; see tests/bench/README.md).
KCFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin-printf -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) \
	-fpic -fvisibility=hidden -fno-plt -fshort-wchar -fno-stack-protector -fno-strict-aliasing \
	-mno-red-zone -maccumulate-outgoing-args -mno-mmx -mno-sse -mno-sse2 \
	-mno-avx -fno-omit-frame-pointer -fno-optimize-sibling-calls \
	-fno-tree-loop-distribute-patterns \
	-Wall -Wextra -Werror -Wno-unused-parameter \
	-DGNU_EFI_USE_MS_ABI $(INCLUDE_ROOTS)
EFI_CFLAGS := -I$(EFI_INC) -I$(EFI_INC)/x86_64 -I$(EFI_INC)/protocol


# The layers, bottom up (tools/layers.txt and docs/architecture.md): each
# folder names its sources once in its own .mk, used by the image and by
# the host tests (tests/unit/*.mk) alike. IMAGE_SRCS is recursive: lwip.mk,
# included last, orders every image object after the lwIP tree.
EXTRA_OBJS :=
.DEFAULT_GOAL := all
include boot/boot.mk
include kernel/kernel.mk
include drivers/drivers.mk
include ebpf/ebpf.mk
include netdev/netdev.mk
include xdp/xdp.mk
include services/services.mk
include app/app.mk
IMAGE_SRCS = $(BOOT_SRCS) $(KERNEL_SRCS) $(DRIVERS_SRCS) $(EBPF_SRCS) \
	$(NETDEV_SRCS) $(LWIP_PORT_SRCS) $(XDP_SRCS) $(SERVICES_SRCS) \
	$(APP_SRCS)
IMAGE_OBJS = $(patsubst %,$(BUILD)/obj/%.o,$(basename $(IMAGE_SRCS)))
include lwip-port/lwip.mk

# The version string lives in a generated header that is rewritten only
# when `git describe` changes, so the banner is never stale and nothing
# else rebuilds.
$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define SKIFF_VERSION "$(VERSION)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/obj/app/main.o $(BUILD)/obj/app/metrics.o: $(BUILD)/gen/version.h
.PHONY: FORCE
FORCE:

.PHONY: all setup run run-iso iso disk run-disk fleet fleet-down fleet-test debug test unit qemu-test clean format \
	bench fuzz check-layers check-format stress
all: $(BUILD)/skiff.efi $(BUILD)/skiff.elf $(BUILD)/skiff-pvh.elf

setup:
	@tools/setup.sh build

$(BUILD)/obj/boot/%.o: boot/%.c | setup-build
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) $(EFI_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c | setup-build
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.S | setup-build
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

# Checks (and, as root, installs) the build packages once per build dir.
.PHONY: setup-build
setup-build:
	@tools/setup.sh build

$(BUILD)/skiff.so: $(IMAGE_OBJS) $(EXTRA_OBJS) boot/skiff.lds
	$(LD) -nostdlib -znocombreloc -shared -Bsymbolic --no-undefined \
		-T boot/skiff.lds $(EFI_CRT0) $(IMAGE_OBJS) $(EXTRA_OBJS) \
		-L$(EFI_LIB) -lgnuefi -o $@

# The ELF keeps every symbol and debug section; gdb loads it at the image base
# the firmware chose (make debug prints it).
$(BUILD)/skiff.elf: $(BUILD)/skiff.so
	cp $< $@

# The direct-boot image: the same kernel objects without the UEFI entry,
# linked statically at 1 MiB with the PVH entry (boot/pvh_entry.S). The
# -fpic objects link fine into a fixed-address executable: ld resolves
# their GOT at link time.
PVH_OBJS = $(patsubst %,$(BUILD)/obj/%.o,$(basename $(BOOT_PVH_SRCS))) \
	$(filter-out $(BUILD)/obj/boot/%,$(IMAGE_OBJS))
$(BUILD)/skiff-pvh.elf: $(PVH_OBJS) $(EXTRA_OBJS) boot/pvh.lds
	$(LD) -nostdlib -static --no-undefined -z noexecstack \
		-z max-page-size=4096 -T boot/pvh.lds $(PVH_OBJS) \
		$(EXTRA_OBJS) -o $@
	@echo "built $@ ($$(stat -c %s $@) bytes)"

$(BUILD)/skiff.efi: $(BUILD)/skiff.so
	$(OBJCOPY) -j .text -j .rodata -j .data -j .dynamic -j .dynsym \
		-j .rel -j .rela -j .rel.* -j .rela.* -j .reloc \
		--target efi-app-x86_64 --subsystem=10 $< $@
	@echo "built $@ ($$(stat -c %s $@) bytes)"

# ---- running -------------------------------------------------------------
# make run [CMDLINE='key=value ...'] [ACCEL=kvm] [MEM=256] [NET=user|tap]
#          [ECHO_PORT=7007] [HTTP_PORT=8080] [IPERF_PORT=5001] [PCAP=file]
#          [SMP=N]
run: all
	@tools/setup.sh run
	@$(PYTHON) tools/skiffqemu.py run

iso: $(BUILD)/skiff.iso
$(BUILD)/skiff.iso: $(BUILD)/skiff.efi boot/grub.cfg
	@tools/setup.sh iso
	tools/mkiso.sh $(BUILD)/skiff.efi $@

run-iso: $(BUILD)/skiff.iso
	@tools/setup.sh run
	@$(PYTHON) tools/skiffqemu.py run --iso

# The disk images are rebuilt every time (it takes a second): CMDLINE may
# have changed, and it is written into the image.
disk: $(BUILD)/skiff.efi
	@tools/setup.sh disk
	@CMDLINE='$(CMDLINE)' tools/mkdisk.sh $(BUILD)/skiff.efi \
		$(BUILD)/skiff.img $(BUILD)/skiff.qcow2

run-disk:
	@test -f "$${DISK:-$(BUILD)/skiff.qcow2}" || $(MAKE) --no-print-directory disk
	@tools/setup.sh run
	@BOOT=disk $(PYTHON) tools/skiffqemu.py run

# The fleet: libvirtd, the appliances' taps, their bridge and HAProxy all
# live in a network namespace tools/fleet.py creates (state in build/fleet).
N ?= 3
fleet: disk
	@tools/setup.sh fleet
	@$(PYTHON) tools/fleet.py up $(N)

fleet-down:
	@$(PYTHON) tools/fleet.py down

fleet-test: disk
	@tools/setup.sh fleet
	@$(PYTHON) tools/fleet.py test

debug: all
	@tools/setup.sh run
	@$(PYTHON) tools/skiffqemu.py run --debug

# ---- tests -----------------------------------------------------------------
UNIT_TESTS :=
UNIT_TSAN_TESTS :=
include $(wildcard tests/unit/*.mk)
UNIT_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -DSKIFF_HOST_TEST -DSKIFF_VERSION='"test"' \
	-I. -Ilwip-port
UNIT_BINS := $(addprefix $(BUILD)/host/test_,$(UNIT_TESTS))

define unit_rule
$(BUILD)/host/test_$(1): $$(UNIT_SRCS_$(1)) tests/unit/check_main.c $$(UNIT_DEPS_$(1))
	@mkdir -p $$(dir $$@)
	$$(HOSTCC) $$(UNIT_CFLAGS) $$(UNIT_CFLAGS_$(1)) $$(UNIT_SRCS_$(1)) \
		tests/unit/check_main.c -o $$@ $$(UNIT_LIBS_$(1))
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

# Tests of lock-free code under threads: ThreadSanitizer instead of ASan.
UNIT_TSAN_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror \
	-Wno-unused-parameter -fsanitize=thread -fno-omit-frame-pointer \
	-pthread -DSKIFF_HOST_TEST -I.
UNIT_TSAN_BINS := $(addprefix $(BUILD)/host/tsan_test_,$(UNIT_TSAN_TESTS))

define unit_tsan_rule
$(BUILD)/host/tsan_test_$(1): $$(UNIT_TSAN_SRCS_$(1)) tests/unit/check_main.c $$(UNIT_TSAN_DEPS_$(1))
	@mkdir -p $$(dir $$@)
	$$(HOSTCC) $$(UNIT_TSAN_CFLAGS) $$(UNIT_TSAN_SRCS_$(1)) \
		tests/unit/check_main.c -o $$@
endef
$(foreach t,$(UNIT_TSAN_TESTS),$(eval $(call unit_tsan_rule,$(t))))

unit: $(UNIT_BINS) $(UNIT_TSAN_BINS)
	@tools/run-unit.sh $(UNIT_BINS) $(UNIT_TSAN_BINS)

# The test ISO's GRUB entry powers off after the banner.
$(BUILD)/skiff-test.iso: $(BUILD)/skiff.efi boot/grub.cfg
	@tools/setup.sh iso
	CMDLINE=test.shutdown=1 tools/mkiso.sh $(BUILD)/skiff.efi $@

qemu-test: all $(BUILD)/skiff-test.iso disk
	@tools/setup.sh test
	$(PYTHON) tests/qemu/run_all.py $(ONLY)

# The stress suite at full length: every attack for STRESS_SECONDS (30),
# the floods as fast as the attacker goes (make test runs it for 8 s, the
# SYN flood at 2,000/s and malformed frames at 3,000/s).
STRESS_SECONDS ?= 30
stress: all
	@tools/setup.sh test
	STRESS_SECONDS=$(STRESS_SECONDS) STRESS_RATE_SYN_FLOOD=$${STRESS_RATE_SYN_FLOOD:-0} \
	STRESS_RATE_MALFORMED=$${STRESS_RATE_MALFORMED:-0} \
	$(PYTHON) tests/qemu/run_all.py stress_

# The include structure: layers only include downward, every include by
# its path, no include cycle (tools/layers.txt holds the order).
check-layers:
	@$(PYTHON) tools/check-layers.py

test:
	@tools/setup.sh test
	@tools/setup.sh bench
	@MAKE="$(MAKE)" tools/test-all.sh

-include tools/bench.mk
-include tools/ddio.mk

# One written style: the repository's .clang-format, applied to every file.
format:
	@tools/setup.sh test
	clang-format -i --style=file $$(git ls-files --cached --others \
		--exclude-standard '*.c' '*.h')

check-format:
	@tools/setup.sh test
	@tools/check-format.sh

clean:
	rm -rf $(BUILD)

-include $(IMAGE_OBJS:.o=.d) $(PVH_OBJS:.o=.d)
