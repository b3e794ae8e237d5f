# boot/: the UEFI entry (GNU-EFI), compiled with EFI_CFLAGS on top of the
# kernel's flags (the Makefile's rule for $(BUILD)/obj/boot/%.o).
BOOT_SRCS := boot/efi_main.c
