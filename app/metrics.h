/* The /metrics document: every counter of /stats in the Prometheus text
 * exposition format 0.0.4. */
#ifndef SKIFF_APP_METRICS_H
#define SKIFF_APP_METRICS_H

#include <stddef.h>

/* Writes the whole body into buf; returns its length, or the length it
 * would have had when cap was too small (like snprintf). */
int metrics_prom(char *buf, size_t cap);

#endif
