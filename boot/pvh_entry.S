/* PVH entry: the direct-boot path (QEMU -kernel, microvm, Firecracker).
 *
 *   qemu-system-x86_64 -M microvm -kernel build/skiff-pvh.elf ...
 *
 * The loader reads the XEN_ELFNOTE_PHYS32_ENTRY note below and jumps to
 * pvh_start32 in 32-bit protected mode with paging off, flat segments and
 * %ebx holding the physical address of struct hvm_start_info. Nothing else
 * is set up for us: this stub clears .bss, identity-maps the first 4 GiB
 * with 2 MiB pages, enters long mode on a small GDT of its own and calls
 * pvh_main() (boot/pvh_main.c) on a stack in .bss. kernel_main then builds
 * its real page tables, GDT and stacks exactly as after the UEFI entry. */

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define CR0_PE 0x00000001
#define CR0_MP 0x00000002
#define CR0_EM 0x00000004
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define CR4_OSFXSR 0x00000200
#define CR4_OSXMMEXCPT 0x00000400
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100
#define PTE_PRESENT_RW 0x003
#define PDE_LARGE_PRESENT_RW 0x083
#define BOOT_STACK_SIZE 0x10000

/* The note loaders look for, in a PT_NOTE segment (boot/pvh.lds). The
 * entry address is 64 bits wide in an ELF64 image, as QEMU reads it;
 * loaders that read 32 bits get the same value (little-endian, < 4 GiB). */
	.section .note.Xen, "a", @note
	.p2align 2
	.long 4f - 3f		/* name size */
	.long 6f - 5f		/* descriptor size */
	.long XEN_ELFNOTE_PHYS32_ENTRY
3:	.asciz "Xen"
4:	.p2align 2
5:	.quad pvh_start32
6:	.p2align 2

	.section .text.pvh32, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	/* The entry time first, before anything else costs cycles. */
	rdtsc
	movl %eax, pvh_tsc_at_entry
	movl %edx, pvh_tsc_at_entry + 4
	movl %ebx, %esi		/* hvm_start_info, kept in %esi */

	/* .bss holds the page tables and the stack: clear it first, four
	 * bytes a store (pvh.lds aligns both ends to 16). Under TCG each
	 * iteration of a rep store costs about as much as an instruction, so
	 * stosb over the ~350 KiB took ~0.35 ms of the boot; stosl ~0.09. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 512
	 * 2 MiB pages each: 0..4 GiB identity-mapped (RAM, ACPI tables, the
	 * I/O APIC and virtio-mmio windows alike; kernel_main replaces it). */
	movl $(pvh_pdpt + PTE_PRESENT_RW), pvh_pml4
	movl $pvh_pdpt, %edi
	movl $(pvh_pd + PTE_PRESENT_RW), %eax
	movl $4, %ecx
1:	movl %eax, (%edi)
	addl $0x1000, %eax
	addl $8, %edi
	loop 1b
	movl $pvh_pd, %edi
	movl $PDE_LARGE_PRESENT_RW, %eax
	movl $2048, %ecx
2:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 2b

	lgdt pvh_gdt_pointer
	movl %cr4, %eax
	orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl $pvh_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	andl $~CR0_EM, %eax
	orl $(CR0_PG | CR0_PE | CR0_MP), %eax
	movl %eax, %cr0
	ljmp $0x08, $pvh_start64

	.code64
pvh_start64:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	leaq pvh_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	movl %esi, %edi		/* pvh_main(start_info physical address) */
	call pvh_main
3:	hlt
	jmp 3b

	.section .rodata
	.p2align 3
pvh_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
pvh_gdt_end:
pvh_gdt_pointer:
	.word pvh_gdt_end - pvh_gdt - 1
	.long pvh_gdt

	.section .data
	.p2align 3
	.globl pvh_tsc_at_entry
pvh_tsc_at_entry:
	.quad 0

	.section .bss
	.p2align 12
pvh_pml4:
	.skip 0x1000
pvh_pdpt:
	.skip 0x1000
pvh_pd:
	.skip 0x4000
	.p2align 4
	.skip BOOT_STACK_SIZE
pvh_stack_top:

	.section .note.GNU-stack, "", @progbits
