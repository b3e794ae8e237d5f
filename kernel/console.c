/* COM1 16550 driver, polled. Output waits (bounded) for the transmit
 * holding register; a missing UART never hangs the kernel. "\n" becomes
 * "\r\n" so the log reads well on a terminal. */
#include <string.h>

#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/spinlock.h"

#define COM1	       0x3f8
#define UART_DATA      0
#define UART_IER       1
#define UART_FCR       2
#define UART_LCR       3
#define UART_MCR       4
#define UART_LSR       5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

static int present;
/* Protects the UART: one console_write's bytes go out together, so lines
 * from several CPUs never interleave. Taken with interrupts off (a handler
 * may log). A panicking CPU stops the others first and then writes with
 * no lock (console_panic), in case one of them held it. */
static struct spinlock lock = SPINLOCK_INIT;
static volatile int panic_mode;

void console_init(void)
{
	outb(COM1 + UART_IER, 0x00);  /* polled: no UART interrupts */
	outb(COM1 + UART_LCR, 0x80);  /* DLAB on to set the divisor */
	outb(COM1 + UART_DATA, 0x01); /* 115200 baud */
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x03); /* 8N1, DLAB off */
	outb(COM1 + UART_FCR, 0xc7); /* FIFOs on and cleared */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
	/* A floating bus reads 0xff: no UART there. */
	present = inb(COM1 + UART_LSR) != 0xff;
}

static void put_raw(char c)
{
	for (int spin = 0; spin < 100000; spin++)
		if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY)
			break;
	outb(COM1 + UART_DATA, (uint8_t)c);
}

void console_write(const char *s, size_t n)
{
	if (!present)
		return;
	bool locked = !panic_mode;
	uint64_t flags = 0;
	if (locked)
		flags = spin_lock_irqsave(&lock);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			put_raw('\r');
		put_raw(s[i]);
	}
	if (locked)
		spin_unlock_irqrestore(&lock, flags);
}

void console_puts(const char *s)
{
	console_write(s, strlen(s));
}

void console_panic(void)
{
	panic_mode = 1;
}
