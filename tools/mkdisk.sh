#!/usr/bin/env bash
# Builds a UEFI disk image of the appliance with Debian's tools and no root
# mount: a raw GPT disk (gdisk's sgdisk) with one EFI system partition,
# FAT32 (dosfstools' mkfs.vfat on a file, filled by mtools), holding
#   EFI/BOOT/BOOTX64.EFI   the appliance (the removable-media path: OVMF and
#                          cloud firmware boot it with no boot entry)
#   EFI/skiff/cmdline      the command line (CMDLINE), read by boot/efi_main.c
#                          when the load options carry none
# and, with a third argument, the same disk as qcow2 (qemu-img convert).
#   CMDLINE='net.mode=irq' tools/mkdisk.sh build/skiff.efi build/skiff.img [build/skiff.qcow2]
set -eu
efi=$1 img=$2 qcow=${3:-}
size_mib=${DISK_MIB:-64}
cmdline=${CMDLINE:-}

for tool in sgdisk mkfs.vfat mmd mcopy qemu-img; do
	command -v "$tool" > /dev/null || {
		echo "mkdisk: $tool missing (tools/setup.sh disk installs it)" >&2
		exit 1
	}
done

tmp="$img.tmp.$$"
esp="$img.esp.$$"
trap 'rm -f "$tmp" "$esp" "$esp.cmdline"' EXIT
rm -f "$tmp"
truncate -s "${size_mib}M" "$tmp"
# One partition from 1 MiB to the end, type EF00 (EFI system partition).
sgdisk --clear --new=1:2048:0 --typecode=1:ef00 \
	--change-name=1:"EFI system partition" "$tmp" > /dev/null
info=$(sgdisk --info=1 "$tmp")
first=$(echo "$info" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
last=$(echo "$info" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
[ -n "$first" ] && [ -n "$last" ] || { echo "mkdisk: no partition" >&2; exit 1; }
sectors=$((last - first + 1))

# The file system is made in a file of the partition's size, then copied
# into place: no loop device, no mount. One sector per cluster keeps
# FAT32 legal on a small partition; the volume id is fixed so the same
# inputs give the same file system.
truncate -s $((sectors * 512)) "$esp"
mkfs.vfat -F 32 -s 1 -n SKIFF -i 534b4946 "$esp" > /dev/null
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/skiff
mcopy -i "$esp" "$efi" ::/EFI/BOOT/BOOTX64.EFI
printf '%s\n' "$cmdline" > "$esp.cmdline"
mcopy -i "$esp" "$esp.cmdline" ::/EFI/skiff/cmdline
dd if="$esp" of="$tmp" bs=512 seek="$first" conv=notrunc,sparse status=none
sgdisk --verify "$tmp" > /dev/null
mv "$tmp" "$img"
echo "built $img (GPT, ESP $((sectors / 2048)) MiB, cmdline \"$cmdline\")"
if [ -n "$qcow" ]; then
	rm -f "$qcow"
	qemu-img convert -f raw -O qcow2 "$img" "$qcow"
	echo "built $qcow ($(stat -c %s "$qcow") bytes)"
fi
