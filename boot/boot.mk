# boot/: the UEFI entry (GNU-EFI), compiled with EFI_CFLAGS on top of the
# kernel's flags (the Makefile's rule for $(BUILD)/obj/boot/%.o).
BOOT_SRCS := boot/efi_main.c
# The direct-boot (PVH) entry: its own stub and boot-info builder, linked
# with the kernel's objects (everything but efi_main) by boot/pvh.lds into
# build/skiff-pvh.elf. BOOT_PVH_INFO_SRCS builds on the host too.
BOOT_PVH_INFO_SRCS := boot/pvh_info.c
BOOT_PVH_SRCS := boot/pvh_entry.S boot/pvh_main.c $(BOOT_PVH_INFO_SRCS)
