# Host tests of the PVH boot-info builder (boot/pvh_info.c): hvm_start_info
# and its memory map against a fake guest memory.
UNIT_TESTS += pvh_info
UNIT_SRCS_pvh_info := tests/unit/test_pvh_info.c $(BOOT_PVH_INFO_SRCS)
UNIT_DEPS_pvh_info := boot/pvh_info.h kernel/bootinfo.h tests/unit/check.h
