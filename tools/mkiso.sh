#!/usr/bin/env bash
# Builds a UEFI-bootable ISO: GRUB (from Debian's grub-efi-amd64-bin, made
# with grub-mkrescue) chainloading build/skiff.efi. CMDLINE goes into the
# GRUB menu entry, so it reaches Skiff as EFI load options.
#   tools/mkiso.sh build/skiff.efi build/skiff.iso
set -eu
efi=$1 iso=$2
root="${iso%.iso}-root"
rm -rf "$root"
mkdir -p "$root/EFI/skiff" "$root/boot/grub"
cp "$efi" "$root/EFI/skiff/skiff.efi"
cmdline=${CMDLINE:-}
sed "s|@CMDLINE@|$cmdline|" boot/grub.cfg > "$root/boot/grub/grub.cfg"
grub-mkrescue -o "$iso" "$root" > "$root.log" 2>&1 || { cat "$root.log" >&2; exit 1; }
[ -s "$iso" ] || { echo "mkiso: grub-mkrescue produced nothing" >&2; exit 1; }
echo "built $iso"
