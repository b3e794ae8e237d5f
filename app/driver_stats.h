/* The virtio-net driver's counters, formatted (see driver_stats.c). */
#ifndef SKIFF_APP_DRIVER_STATS_H
#define SKIFF_APP_DRIVER_STATS_H

#include <stddef.h>

#include "drivers/virtio_net.h"

/* Both return what ksnprintf returns: the length the whole text needs
 * (output is truncated, NUL-terminated, when size is smaller). */
int vnet_stats_format_text(const struct vnet_stats *s, char *buf, size_t size);
int vnet_stats_format_json(const struct vnet_stats *s, char *buf, size_t size);
/* Adds one queue pair's counters and gauges into sum, by the table
 * (booleans: link and RSS from pair 0, broken if any pair is). */
void vnet_stats_add(struct vnet_stats *sum, const struct vnet_stats *s);

#endif
