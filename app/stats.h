/* The /stats document: one JSON object with everything a user may want to
 * read (uptime, receive mode, driver, lwIP, memory, services). */
#ifndef SKIFF_APP_STATS_H
#define SKIFF_APP_STATS_H

#include <stddef.h>

/* Writes the whole JSON body into buf; returns its length, or the length it
 * would have had when cap was too small (like snprintf). */
int stats_json(char *buf, size_t cap);

#endif
