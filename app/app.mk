# app/: bring-up (kernel_main: CPU, memory, NIC, vectors, lwIP, addresses),
# the irq/poll/hybrid main loop, the service registry and /stats.
APP_SRCS := app/main.c app/netstack.c app/services.c app/stats.c \
	app/driver_stats.c app/metrics.c
# What builds on the host (the driver's host test checks the formats).
APP_DRIVER_STATS_SRCS := app/driver_stats.c
