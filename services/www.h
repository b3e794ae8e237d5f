/* The site compiled into the image: tools/gen-www.py turns every file under
 * www/ into one entry of www_files[] (build/www/www_data.c), with its bytes
 * in .rodata. The HTTP server sends them straight from there, without
 * copying. A "NAME.gen" file in www/ describes content synthesised at build
 * time (see the generator's header). */
#ifndef SKIFF_SERVICES_WWW_H
#define SKIFF_SERVICES_WWW_H

#include <stddef.h>

struct www_file {
	/* URL path, decoded and normalised ("/index.html", "/css/a b.css"). */
	const char *path;
	/* From the extension; application/octet-stream when unknown. */
	const char *content_type;
	/* Strong ETag including its quotes: a hash of the content. */
	const char *etag;
	const unsigned char *data;
	size_t len;
};

/* Sorted by path (bytewise, as memcmp orders them). */
extern const struct www_file www_files[];
extern const size_t www_file_count;
/* Sum of every entry's length, for /stats and the boot log. */
extern const size_t www_total_bytes;

/* The entry for a normalised path (not NUL-terminated), or NULL. */
const struct www_file *www_lookup(const char *path, size_t len);

#endif
