/* UEFI entry: the only code that talks to the firmware.
 *
 * It gathers what the kernel needs (image location, ACPI RSDP, the command
 * line from the load options or else from the file EFI/skiff/cmdline on
 * the volume the image was loaded from, the memory map), leaves boot
 * services, and enters kernel_main() with a boot_info that lives in our own
 * .data.
 *
 *   qemu-system-x86_64 -M q35 -drive if=pflash,...OVMF_CODE_4M.fd \
 *       -drive file=fat:rw:<dir with EFI/BOOT/BOOTX64.EFI>,format=raw
 *
 * crt0 from gnu-efi calls efi_main with the SysV convention after applying
 * the image's relocations; firmware services are called through
 * uefi_call_wrapper (a plain MS-ABI call with GNU_EFI_USE_MS_ABI). Only
 * gnu-efi's headers, crt0 and _relocate are used, not libefi: the kernel has
 * its own memcpy/memset and needs none of libefi's helpers. */
#include <efi.h>

#include "kernel/bootinfo.h"
#include "kernel/cpu.h"

static struct boot_info boot;
static EFI_BOOT_SERVICES *BS;
static EFI_SYSTEM_TABLE *ST;

/* Memory-map buffer: from the pool, with slack because allocating it can
 * itself add entries to the map. */
struct efi_mmap {
	EFI_MEMORY_DESCRIPTOR *desc;
	UINTN size, key, desc_size;
	UINT32 desc_version;
};

static EFI_STATUS get_memory_map(struct efi_mmap *m, UINTN capacity)
{
	m->size = capacity;
	return uefi_call_wrapper(BS->GetMemoryMap, 5, &m->size, m->desc,
				 &m->key, &m->desc_size, &m->desc_version);
}

static EFI_STATUS alloc_memory_map(struct efi_mmap *m, UINTN *capacity)
{
	EFI_STATUS st;

	m->desc = NULL;
	m->size = 0;
	st = uefi_call_wrapper(BS->GetMemoryMap, 5, &m->size, m->desc, &m->key,
			       &m->desc_size, &m->desc_version);
	if (st != EFI_BUFFER_TOO_SMALL)
		return st;
	*capacity = m->size + 16 * m->desc_size;
	st = uefi_call_wrapper(BS->AllocatePool, 3, EfiLoaderData, *capacity,
			       (void **)&m->desc);
	if (EFI_ERROR(st))
		return st;
	return get_memory_map(m, *capacity);
}

static uint32_t classify(UINT32 efi_type)
{
	switch (efi_type) {
	case EfiConventionalMemory:
		return BOOT_MEM_USABLE;
	case EfiBootServicesCode:
	case EfiBootServicesData:
		return BOOT_MEM_BOOT_SERVICES;
	case EfiLoaderCode:
	case EfiLoaderData:
		return BOOT_MEM_LOADER;
	case EfiACPIReclaimMemory:
		return BOOT_MEM_ACPI_RECLAIM;
	case EfiACPIMemoryNVS:
		return BOOT_MEM_ACPI_NVS;
	case EfiRuntimeServicesCode:
	case EfiRuntimeServicesData:
		return BOOT_MEM_RUNTIME;
	case EfiMemoryMappedIO:
	case EfiMemoryMappedIOPortSpace:
		return BOOT_MEM_MMIO;
	default:
		return BOOT_MEM_RESERVED;
	}
}

/* Copies the final map into boot.regions, merging neighbours of one type. */
static void copy_memory_map(const struct efi_mmap *m)
{
	UINTN n = m->size / m->desc_size;

	for (UINTN i = 0; i < n; i++) {
		const EFI_MEMORY_DESCRIPTOR *d =
		    (const void *)((const char *)m->desc + i * m->desc_size);
		uint32_t type = classify(d->Type);
		struct boot_mem_region *last =
		    boot.nregions ? &boot.regions[boot.nregions - 1] : NULL;

		if (d->NumberOfPages == 0)
			continue;
		if (last && last->type == type && last->efi_type == d->Type &&
		    last->base + last->npages * 4096 == d->PhysicalStart) {
			last->npages += d->NumberOfPages;
			continue;
		}
		if (boot.nregions == BOOT_MAX_REGIONS) {
			boot.regions_dropped++;
			continue;
		}
		boot.regions[boot.nregions++] = (struct boot_mem_region){
		    .base = d->PhysicalStart,
		    .npages = d->NumberOfPages,
		    .type = type,
		    .efi_type = d->Type,
		};
	}
}

static int guid_equal(const EFI_GUID *a, const EFI_GUID *b)
{
	const uint8_t *x = (const void *)a, *y = (const void *)b;

	for (unsigned i = 0; i < sizeof(EFI_GUID); i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

static uint64_t find_rsdp(EFI_SYSTEM_TABLE *st)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	uint64_t v1 = 0;

	for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];

		if (guid_equal(&t->VendorGuid, &acpi20))
			return (uint64_t)t->VendorTable;
		if (guid_equal(&t->VendorGuid, &acpi10))
			v1 = (uint64_t)t->VendorTable;
	}
	return v1;
}

/* Load options are UCS-2 text when a shell or GRUB's chainloader passed a
 * command line, and opaque bytes when the firmware's boot manager did. Only
 * printable text is taken. The UEFI shell puts the image path first: that
 * word is not a key=value and is dropped. */
static void copy_load_options(EFI_LOADED_IMAGE *li)
{
	const CHAR16 *opt = li->LoadOptions;
	UINTN n = li->LoadOptionsSize / sizeof(CHAR16), out = 0, i = 0;

	if (!opt || n == 0)
		return;
	for (UINTN k = 0; k < n && opt[k]; k++)
		if (opt[k] < 0x20 || opt[k] > 0x7e)
			return;
	while (i < n && opt[i] == ' ')
		i++;
	/* A first word containing a path separator or ending in .efi is the
	 * loader's own invocation, not a key=value. */
	UINTN w = i;
	int has_sep = 0;
	while (w < n && opt[w] && opt[w] != ' ') {
		if (opt[w] == '\\' || opt[w] == '/')
			has_sep = 1;
		w++;
	}
	if (w > i + 4 && (opt[w - 1] == 'i' || opt[w - 1] == 'I') &&
	    opt[w - 4] == '.')
		has_sep = 1;
	if (has_sep)
		i = w;
	for (; i < n && opt[i] && out + 1 < sizeof(boot.cmdline); i++)
		boot.cmdline[out++] = (char)opt[i];
	boot.cmdline[out] = '\0';
	boot.cmdline_from_options = out > 0;
}

/* A disk image (make disk) carries its command line in a file beside the
 * loader, as GRUB keeps its grub.cfg: \EFI\skiff\cmdline on the volume
 * the image came from. It is read only when the load options gave none.
 * The file is untrusted input: at most the buffer's size is read, control
 * characters and line ends become spaces, anything outside printable
 * ASCII is dropped, and a missing file or volume is simply no command
 * line (then the kernel looks at fw_cfg). */
static void read_cmdline_file(EFI_LOADED_IMAGE *li)
{
	EFI_GUID fs_guid = SIMPLE_FILE_SYSTEM_PROTOCOL;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs = NULL;
	EFI_FILE_HANDLE root = NULL, file = NULL;
	static char raw[BOOT_CMDLINE_MAX];
	UINTN size = sizeof(raw) - 1, out = 0;

	if (boot.cmdline[0] || !li->DeviceHandle)
		return;
	if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, li->DeviceHandle,
					&fs_guid, (void **)&fs)) ||
	    !fs)
		return;
	if (EFI_ERROR(uefi_call_wrapper(fs->OpenVolume, 2, fs, &root)) || !root)
		return;
	if (EFI_ERROR(uefi_call_wrapper(root->Open, 5, root, &file,
					(CHAR16 *)L"\\EFI\\skiff\\cmdline",
					EFI_FILE_MODE_READ, 0)) ||
	    !file)
		goto close_root;
	if (EFI_ERROR(uefi_call_wrapper(file->Read, 3, file, &size, raw)))
		size = 0;
	if (size > sizeof(raw) - 1)
		size = sizeof(raw) - 1;
	for (UINTN i = 0; i < size && raw[i] && out + 1 < sizeof(boot.cmdline);
	     i++) {
		char c = raw[i];

		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c < 0x20 || c > 0x7e)
			continue;
		if (c == ' ' && (out == 0 || boot.cmdline[out - 1] == ' '))
			continue;
		boot.cmdline[out++] = c;
	}
	while (out > 0 && boot.cmdline[out - 1] == ' ')
		out--;
	boot.cmdline[out] = '\0';
	uefi_call_wrapper(file->Close, 1, file);
close_root:
	uefi_call_wrapper(root->Close, 1, root);
}

/* One page below 640 KiB for the kernel's AP start-up trampoline (a
 * STARTUP IPI can only point there). Loader data survives
 * ExitBootServices and is never handed to the page allocator. Failing is
 * not fatal: the kernel then looks in the memory map, or runs on one CPU. */
static void reserve_low_page(void)
{
	EFI_PHYSICAL_ADDRESS addr = 0x9f000;

	if (!EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4,
					 AllocateMaxAddress, EfiLoaderData, 1,
					 &addr)))
		boot.low_page = addr;
}

/* Reports a failure on the firmware console (before ExitBootServices). */
static void fail(const CHAR16 *what, EFI_STATUS st)
{
	static CHAR16 code[] = L" failed, EFI status 0x????????????????\r\n";
	static const char hex[] = "0123456789abcdef";
	CHAR16 *h = code + 22;

	for (int i = 0; i < 16; i++)
		h[i] = hex[(st >> (60 - 4 * i)) & 0xf];
	uefi_call_wrapper(ST->ConOut->OutputString, 2, ST->ConOut,
			  (CHAR16 *)L"skiff: ");
	uefi_call_wrapper(ST->ConOut->OutputString, 2, ST->ConOut,
			  (CHAR16 *)what);
	uefi_call_wrapper(ST->ConOut->OutputString, 2, ST->ConOut, code);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_LOADED_IMAGE *li = NULL;
	struct efi_mmap m;
	UINTN capacity = 0;
	EFI_STATUS st;

	boot.tsc_at_entry = rdtsc();
	boot.loader = "uefi";
	ST = systab;
	BS = systab->BootServices;

	EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &loaded_image_guid,
			       (void **)&li);
	if (EFI_ERROR(st)) {
		fail(L"HandleProtocol(LoadedImage)", st);
		return st;
	}
	boot.image_base = (uint64_t)li->ImageBase;
	boot.image_size = li->ImageSize;
	boot.rsdp = find_rsdp(systab);
	copy_load_options(li);
	read_cmdline_file(li);
	reserve_low_page();

	st = alloc_memory_map(&m, &capacity);
	if (EFI_ERROR(st)) {
		fail(L"GetMemoryMap", st);
		return st;
	}
	/* The map key goes stale if anything allocated since GetMemoryMap
	 * (a timer event in the firmware can); fetch the map again into the
	 * same buffer, which needs no allocation, and retry. */
	for (int tries = 0;; tries++) {
		st = uefi_call_wrapper(BS->ExitBootServices, 2, image, m.key);
		if (!EFI_ERROR(st))
			break;
		if (tries == 8) {
			fail(L"ExitBootServices", st);
			return st;
		}
		st = get_memory_map(&m, capacity);
		if (EFI_ERROR(st)) {
			fail(L"GetMemoryMap (retry)", st);
			return st;
		}
	}
	/* From here on: no firmware calls at all. */
	copy_memory_map(&m);
	kernel_main(&boot);
}
