/* The BPF ELF loader: turns a clang -target bpf object into a struct
 * ebpf_prog with its maps created and map references relocated.
 *
 *  - ELF64, little-endian, EM_BPF; every header, offset, size, index and
 *    string read from the file is bounds-checked (the object is untrusted
 *    input; tests/fuzz/fuzz_ebpf_elf.c feeds it garbage).
 *  - The program: the first function of the section the caller names,
 *    or of the first section named as libbpf names XDP ("xdp", "xdp/...",
 *    "xdp.frags"), TC ("tc", "classifier", "tc/...") or socket-filter
 *    ("socket", "socket/...") programs; the name gives the program type
 *    (any other name: an XDP context without the return-value rule).
 *  - Maps: libbpf's BTF-defined maps (a ".maps" section whose variables'
 *    types in .BTF are structs of __uint()/__type() members), or the legacy
 *    "maps" section of struct bpf_map_def {type, key_size, value_size,
 *    max_entries, map_flags}.
 *  - Relocations: R_BPF_64_64 on an ld_imm64 that names a map symbol
 *    becomes src = EBPF_PSEUDO_MAP_FD, imm = index in prog->maps.
 * Then ebpf_prog_prepare() verifies the program and rewrites its context
 * loads. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf/ebpf.h"
#include "kernel/kerrno.h"

#define EM_BPF	      247
#define SHT_PROGBITS  1
#define SHT_SYMTAB    2
#define SHT_REL	      9
#define SHT_NOBITS    8
#define SHF_EXECINSTR 4
#define STT_FUNC      2
#define R_BPF_NONE    0
#define R_BPF_64_64   1
#define R_BPF_64_32   10
#define SHDR_SIZE     64
#define SYM_SIZE      24
#define REL_SIZE      16

struct shdr {
	uint32_t name, type, link, info;
	uint64_t flags, offset, size, entsize;
};

struct map_spec {
	char name[32];
	uint32_t type, key_size, value_size, max_entries;
	const char *full_name; /* inside the object, for relocations */
};

struct loader {
	const uint8_t *b;
	size_t len;
	uint16_t shnum, shstrndx;
	uint64_t shoff;
	char *err;
	size_t errlen;
	struct map_spec specs[EBPF_MAX_MAPS];
	uint32_t nspecs;
	int maps_sec; /* section the map symbols live in, -1 none */
};

static void copy_name(char *dst, const char *src, size_t cap)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static int lfail(struct loader *l, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int lfail(struct loader *l, int rc, const char *fmt, ...)
{
	va_list ap;

	if (l->err && l->errlen) {
		va_start(ap, fmt);
		vsnprintf(l->err, l->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* [off, off+size) inside a buffer of len bytes, without overflow. */
static bool in_bounds(uint64_t off, uint64_t size, uint64_t len)
{
	return off <= len && size <= len - off;
}

static void get_shdr(const struct loader *l, uint32_t i, struct shdr *s)
{
	const uint8_t *p = l->b + l->shoff + (uint64_t)i * SHDR_SIZE;

	s->name = rd32(p);
	s->type = rd32(p + 4);
	s->flags = rd64(p + 8);
	s->offset = rd64(p + 24);
	s->size = rd64(p + 32);
	s->link = rd32(p + 40);
	s->info = rd32(p + 44);
	s->entsize = rd64(p + 56);
}

/* The section's bytes, or NULL when they are not inside the file. */
static const uint8_t *sec_data(const struct loader *l, const struct shdr *s)
{
	if (s->type == SHT_NOBITS || !in_bounds(s->offset, s->size, l->len))
		return NULL;
	return l->b + s->offset;
}

/* A NUL-terminated string at off in string section idx, or NULL. */
static const char *str_at(const struct loader *l, uint32_t idx, uint64_t off)
{
	struct shdr s;
	const uint8_t *d;

	if (idx == 0 || idx >= l->shnum)
		return NULL;
	get_shdr(l, idx, &s);
	d = sec_data(l, &s);
	if (!d || off >= s.size)
		return NULL;
	if (!memchr(d + off, 0, s.size - off))
		return NULL;
	return (const char *)d + off;
}

static const char *sec_name(const struct loader *l, const struct shdr *s)
{
	return str_at(l, l->shstrndx, s->name);
}

static int find_section(const struct loader *l, const char *name)
{
	for (uint32_t i = 1; i < l->shnum; i++) {
		struct shdr s;
		const char *n;

		get_shdr(l, i, &s);
		n = sec_name(l, &s);
		if (n && strcmp(n, name) == 0)
			return (int)i;
	}
	return -1;
}

/* libbpf's section names for the program types Skiff runs; -1 for any
 * other name. */
static bool sec_is(const char *n, const char *base)
{
	size_t k = strlen(base);

	return strncmp(n, base, k) == 0 && (n[k] == 0 || n[k] == '/');
}

static int section_prog_type(const char *n)
{
	if (!n)
		return -1;
	if (sec_is(n, "xdp") || sec_is(n, "xdp.frags"))
		return EBPF_PROG_XDP;
	if (sec_is(n, "tc") || sec_is(n, "classifier"))
		return EBPF_PROG_SCHED_CLS;
	if (sec_is(n, "socket"))
		return EBPF_PROG_SOCKET_FILTER;
	return -1;
}

static bool is_xdp_section(const char *n)
{
	return strcmp(n, "xdp") == 0 || strncmp(n, "xdp/", 4) == 0 ||
	       strcmp(n, "xdp.frags") == 0 || strncmp(n, "xdp.frags/", 10) == 0;
}

struct sym {
	uint32_t name;
	uint8_t info;
	uint16_t shndx;
	uint64_t value, size;
};

struct symtab {
	const uint8_t *d;
	uint64_t n;
	uint32_t strtab;
};

static void get_sym(const struct symtab *t, uint64_t i, struct sym *s)
{
	const uint8_t *p = t->d + i * SYM_SIZE;

	s->name = rd32(p);
	s->info = p[4];
	s->shndx = rd16(p + 6);
	s->value = rd64(p + 8);
	s->size = rd64(p + 16);
}

/* ---- BTF-defined maps -----------------------------------------------------
 */

#define BTF_MAGIC     0xeb9f
#define BTF_MAX_TYPES 65536
enum {
	BTF_INT = 1,
	BTF_PTR,
	BTF_ARRAY,
	BTF_STRUCT,
	BTF_UNION,
	BTF_ENUM,
	BTF_FWD,
	BTF_TYPEDEF,
	BTF_VOLATILE,
	BTF_CONST,
	BTF_RESTRICT,
	BTF_FUNC,
	BTF_FUNC_PROTO,
	BTF_VAR,
	BTF_DATASEC,
	BTF_FLOAT,
	BTF_DECL_TAG,
	BTF_TYPE_TAG,
	BTF_ENUM64,
};

struct btf {
	const uint8_t *types; /* type section */
	uint64_t types_len;
	const uint8_t *strs;
	uint64_t strs_len;
	uint32_t *off; /* offset of type id i (1-based) in types */
	uint32_t ntypes;
};

static const char *btf_str(const struct btf *b, uint32_t off)
{
	if (off >= b->strs_len || !memchr(b->strs + off, 0, b->strs_len - off))
		return NULL;
	return (const char *)b->strs + off;
}

static uint32_t btf_kind(const uint8_t *t)
{
	return (rd32(t + 4) >> 24) & 0x1f;
}

static uint32_t btf_vlen(const uint8_t *t)
{
	return rd32(t + 4) & 0xffff;
}

static const uint8_t *btf_type(const struct btf *b, uint32_t id)
{
	if (id == 0 || id > b->ntypes)
		return NULL;
	return b->types + b->off[id];
}

/* Bytes of kind-specific data after the 12-byte common part, or -1. */
static int64_t btf_extra(const uint8_t *t)
{
	uint64_t vlen = btf_vlen(t);

	switch (btf_kind(t)) {
	case BTF_INT:
	case BTF_VAR:
	case BTF_DECL_TAG:
		return 4;
	case BTF_PTR:
	case BTF_FWD:
	case BTF_TYPEDEF:
	case BTF_VOLATILE:
	case BTF_CONST:
	case BTF_RESTRICT:
	case BTF_FUNC:
	case BTF_FLOAT:
	case BTF_TYPE_TAG:
		return 0;
	case BTF_ARRAY:
		return 12;
	case BTF_STRUCT:
	case BTF_UNION:
	case BTF_DATASEC:
	case BTF_ENUM64:
		return (int64_t)vlen * 12;
	case BTF_ENUM:
	case BTF_FUNC_PROTO:
		return (int64_t)vlen * 8;
	default:
		return -1;
	}
}

static int btf_parse(struct loader *l, const uint8_t *d, uint64_t size,
		     struct btf *b)
{
	uint32_t hdr_len, type_off, type_len, str_off, str_len;
	uint64_t pos, n = 0;

	memset(b, 0, sizeof(*b));
	if (size < 24 || rd16(d) != BTF_MAGIC)
		return lfail(l, -EINVAL, "bad .BTF header");
	hdr_len = rd32(d + 4);
	type_off = rd32(d + 8);
	type_len = rd32(d + 12);
	str_off = rd32(d + 16);
	str_len = rd32(d + 20);
	if (hdr_len < 24 || !in_bounds(hdr_len, 0, size) ||
	    !in_bounds((uint64_t)type_off, type_len, size - hdr_len) ||
	    !in_bounds((uint64_t)str_off, str_len, size - hdr_len))
		return lfail(l, -EINVAL, ".BTF sections out of bounds");
	b->types = d + hdr_len + type_off;
	b->types_len = type_len;
	b->strs = d + hdr_len + str_off;
	b->strs_len = str_len;

	/* Two walks: count, then record each type's offset. */
	for (int pass = 0; pass < 2; pass++) {
		pos = 0;
		n = 0;
		while (pos < b->types_len) {
			int64_t extra;

			if (!in_bounds(pos, 12, b->types_len))
				return lfail(l, -EINVAL, ".BTF type truncated");
			extra = btf_extra(b->types + pos);
			if (extra < 0)
				return lfail(l, -EINVAL,
					     ".BTF: unknown type kind %u",
					     btf_kind(b->types + pos));
			if (!in_bounds(pos + 12, (uint64_t)extra, b->types_len))
				return lfail(l, -EINVAL, ".BTF type truncated");
			if (++n > BTF_MAX_TYPES)
				return lfail(l, -E2BIG, ".BTF: too many types");
			if (pass)
				b->off[n] = (uint32_t)pos;
			pos += 12 + (uint64_t)extra;
		}
		if (!pass) {
			b->off = malloc(sizeof(uint32_t) * (n + 1));
			if (!b->off)
				return -ENOMEM;
		}
	}
	b->ntypes = (uint32_t)n;
	return 0;
}

/* Follows typedef/const/volatile/restrict/type_tag to the real type. */
static const uint8_t *btf_skip_mods(const struct btf *b, uint32_t id,
				    uint32_t *idp)
{
	for (int depth = 0; depth < 32; depth++) {
		const uint8_t *t = btf_type(b, id);
		if (!t)
			return NULL;
		switch (btf_kind(t)) {
		case BTF_TYPEDEF:
		case BTF_CONST:
		case BTF_VOLATILE:
		case BTF_RESTRICT:
		case BTF_TYPE_TAG:
			id = rd32(t + 8);
			continue;
		default:
			if (idp)
				*idp = id;
			return t;
		}
	}
	return NULL;
}

/* sizeof the type, or -1. */
static int64_t btf_size(const struct btf *b, uint32_t id, int depth)
{
	const uint8_t *t = btf_skip_mods(b, id, &id);

	if (!t || depth > 16)
		return -1;
	switch (btf_kind(t)) {
	case BTF_INT:
	case BTF_STRUCT:
	case BTF_UNION:
	case BTF_ENUM:
	case BTF_ENUM64:
	case BTF_FLOAT:
		return rd32(t + 8);
	case BTF_PTR:
		return 8;
	case BTF_ARRAY: {
		int64_t e = btf_size(b, rd32(t + 12), depth + 1);
		uint64_t nel = rd32(t + 20);
		if (e < 0 || (e > 0 && nel > ((uint64_t)1 << 32) / (uint64_t)e))
			return -1;
		return e * (int64_t)nel;
	}
	default:
		return -1;
	}
}

/* __uint(name, v) is `int (*name)[v]`: the array's element count. */
static bool btf_uint_member(const struct btf *b, uint32_t type, uint32_t *v)
{
	const uint8_t *t = btf_skip_mods(b, type, NULL);

	if (!t || btf_kind(t) != BTF_PTR)
		return false;
	t = btf_skip_mods(b, rd32(t + 8), NULL);
	if (!t || btf_kind(t) != BTF_ARRAY)
		return false;
	*v = rd32(t + 20);
	return true;
}

/* __type(name, T) is `T *name`: sizeof(T). */
static bool btf_type_member(const struct btf *b, uint32_t type, uint32_t *v)
{
	const uint8_t *t = btf_skip_mods(b, type, NULL);
	int64_t sz;

	if (!t || btf_kind(t) != BTF_PTR)
		return false;
	sz = btf_size(b, rd32(t + 8), 0);
	if (sz <= 0 || sz > UINT32_MAX)
		return false;
	*v = (uint32_t)sz;
	return true;
}

static int btf_maps(struct loader *l, const struct btf *b)
{
	for (uint32_t id = 1; id <= b->ntypes; id++) {
		const uint8_t *t = btf_type(b, id);
		const char *name;

		if (btf_kind(t) != BTF_DATASEC)
			continue;
		name = btf_str(b, rd32(t));
		if (!name || strcmp(name, ".maps") != 0)
			continue;
		for (uint32_t k = 0; k < btf_vlen(t); k++) {
			const uint8_t *vi = t + 12 + k * 12;
			const uint8_t *var = btf_type(b, rd32(vi));
			const uint8_t *st;
			struct map_spec *ms;
			const char *vname;

			if (!var || btf_kind(var) != BTF_VAR)
				return lfail(
				    l, -EINVAL,
				    ".maps: entry %u is not a variable", k);
			vname = btf_str(b, rd32(var));
			st = btf_skip_mods(b, rd32(var + 8), NULL);
			if (!vname || !st || btf_kind(st) != BTF_STRUCT)
				return lfail(l, -EINVAL,
					     ".maps: map %u is not a struct",
					     k);
			if (l->nspecs == EBPF_MAX_MAPS)
				return lfail(l, -E2BIG,
					     "too many maps (max %d)",
					     EBPF_MAX_MAPS);
			ms = &l->specs[l->nspecs++];
			memset(ms, 0, sizeof(*ms));
			copy_name(ms->name, vname, sizeof(ms->name));
			/* clang leaves the offsets in DATASEC at 0 (libbpf
			 * fixes them up from the symbols): relocations find
			 * maps by name. */
			ms->full_name = vname;
			for (uint32_t m = 0; m < btf_vlen(st); m++) {
				const uint8_t *mem = st + 12 + m * 12;
				const char *mn = btf_str(b, rd32(mem));
				uint32_t mt = rd32(mem + 4);
				bool ok = true;

				if (!mn)
					ok = false;
				else if (!strcmp(mn, "type"))
					ok = btf_uint_member(b, mt, &ms->type);
				else if (!strcmp(mn, "max_entries"))
					ok = btf_uint_member(b, mt,
							     &ms->max_entries);
				else if (!strcmp(mn, "key_size"))
					ok = btf_uint_member(b, mt,
							     &ms->key_size);
				else if (!strcmp(mn, "value_size"))
					ok = btf_uint_member(b, mt,
							     &ms->value_size);
				else if (!strcmp(mn, "key"))
					ok = btf_type_member(b, mt,
							     &ms->key_size);
				else if (!strcmp(mn, "value"))
					ok = btf_type_member(b, mt,
							     &ms->value_size);
				/* map_flags, pinning, ...: ignored */
				if (!ok)
					return lfail(l, -EINVAL,
						     "map '%s': cannot read "
						     "member %u from BTF",
						     ms->name, m);
			}
		}
	}
	return 0;
}

/* ---- legacy "maps" section ------------------------------------------------
 */

static int legacy_maps(struct loader *l, const struct symtab *st,
		       const struct shdr *ms, const uint8_t *md)
{
	for (uint64_t i = 0; i < st->n; i++) {
		struct sym s;
		struct map_spec *spec;
		const char *name;

		get_sym(st, i, &s);
		if (s.shndx != (uint16_t)l->maps_sec || (s.info & 0xf) == 3)
			continue; /* STT_SECTION symbols name no map */
		if (!in_bounds(s.value, 20, ms->size))
			return lfail(l, -EINVAL,
				     "map symbol outside the maps section");
		if (l->nspecs == EBPF_MAX_MAPS)
			return lfail(l, -E2BIG, "too many maps (max %d)",
				     EBPF_MAX_MAPS);
		spec = &l->specs[l->nspecs++];
		memset(spec, 0, sizeof(*spec));
		name = str_at(l, st->strtab, s.name);
		copy_name(spec->name, name ? name : "?", sizeof(spec->name));
		spec->full_name = name;
		spec->type = rd32(md + s.value);
		spec->key_size = rd32(md + s.value + 4);
		spec->value_size = rd32(md + s.value + 8);
		spec->max_entries = rd32(md + s.value + 12);
	}
	return 0;
}

/* ---- the program ----------------------------------------------------------
 */

int ebpf_prog_from_insns(const char *name, const struct ebpf_insn *insns,
			 uint32_t ninsns, struct ebpf_prog **out)
{
	struct ebpf_prog *p;

	*out = NULL;
	if (ninsns == 0 || ninsns > EBPF_MAX_INSNS)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->insns = malloc(sizeof(struct ebpf_insn) * ninsns);
	if (!p->insns) {
		free(p);
		return -ENOMEM;
	}
	memcpy(p->insns, insns, sizeof(struct ebpf_insn) * ninsns);
	p->ninsns = ninsns;
	copy_name(p->name, name ? name : "prog", sizeof(p->name));
	*out = p;
	return 0;
}

void ebpf_prog_free(struct ebpf_prog *p)
{
	if (!p)
		return;
	ebpf_jit_free(p);
	for (uint32_t i = 0; i < p->nmaps && i < EBPF_MAX_MAPS; i++)
		ebpf_map_free(p->maps[i]);
	free(p->insns);
	free(p);
}

struct ebpf_map *ebpf_prog_map(const struct ebpf_prog *p, const char *name)
{
	for (uint32_t i = 0; i < p->nmaps; i++)
		if (p->maps[i] && strcmp(p->maps[i]->name, name) == 0)
			return p->maps[i];
	return NULL;
}

static int find_prog_section(struct loader *l, const char *section,
			     struct shdr *ps)
{
	for (uint32_t i = 1; i < l->shnum; i++) {
		const char *n;

		get_shdr(l, i, ps);
		n = sec_name(l, ps);
		if (!n || ps->type != SHT_PROGBITS ||
		    !(ps->flags & SHF_EXECINSTR))
			continue;
		if (section ? strcmp(n, section) == 0
			    : section_prog_type(n) >= 0)
			return (int)i;
	}
	return -1;
}

static int load(struct loader *l, const char *section, struct ebpf_prog **out)
{
	const uint8_t *b = l->b;
	struct shdr ps, s;
	struct symtab st = {0};
	struct ebpf_prog *p = NULL;
	const uint8_t *pd;
	uint64_t start = 0, size;
	const char *pname = NULL;
	bool xdp;
	int psec, rc, ptype;

	if (l->len < 64 || memcmp(b,
				  "\x7f"
				  "ELF",
				  4) != 0)
		return lfail(l, -EINVAL, "not an ELF file");
	if (b[4] != 2 || b[5] != 1)
		return lfail(l, -EINVAL, "not a 64-bit little-endian ELF");
	if (rd16(b + 18) != EM_BPF)
		return lfail(l, -EINVAL, "not a BPF object (machine %u)",
			     rd16(b + 18));
	l->shoff = rd64(b + 40);
	l->shnum = rd16(b + 60);
	l->shstrndx = rd16(b + 62);
	if (rd16(b + 58) != SHDR_SIZE || l->shnum == 0 ||
	    !in_bounds(l->shoff, (uint64_t)l->shnum * SHDR_SIZE, l->len))
		return lfail(l, -EINVAL, "section headers out of bounds");
	if (l->shstrndx >= l->shnum)
		return lfail(l, -EINVAL, "bad section name table index");

	psec = find_prog_section(l, section, &ps);
	if (psec < 0)
		return lfail(l, -ENOENT, "no program section '%s'",
			     section ? section
				     : "xdp, tc, classifier or socket");
	xdp = is_xdp_section(sec_name(l, &ps));
	ptype = section_prog_type(sec_name(l, &ps));
	pd = sec_data(l, &ps);
	if (!pd)
		return lfail(l, -EINVAL, "program section out of bounds");
	size = ps.size;

	/* The symbol table: the program's name and extent, map symbols. */
	for (uint32_t i = 1; i < l->shnum; i++) {
		get_shdr(l, i, &s);
		if (s.type != SHT_SYMTAB)
			continue;
		st.d = sec_data(l, &s);
		if (!st.d || s.size % SYM_SIZE || s.link >= l->shnum)
			return lfail(l, -EINVAL, "bad symbol table");
		st.n = s.size / SYM_SIZE;
		st.strtab = s.link;
		break;
	}
	for (uint64_t i = 0; i < st.n; i++) {
		struct sym sy;
		get_sym(&st, i, &sy);
		if (sy.shndx == psec && (sy.info & 0xf) == STT_FUNC &&
		    sy.value == 0 && sy.size > 0 && sy.size <= ps.size) {
			size = sy.size;
			pname = str_at(l, st.strtab, sy.name);
			break;
		}
	}
	if (size == 0 || size % 8 || size / 8 > EBPF_MAX_INSNS)
		return lfail(l, -EINVAL,
			     "program size %llu is not 1..%d instructions",
			     (unsigned long long)size, EBPF_MAX_INSNS);

	/* Maps. */
	l->maps_sec = find_section(l, ".maps");
	if (l->maps_sec > 0) {
		int bs = find_section(l, ".BTF");
		const uint8_t *bd;
		struct btf btf;

		if (bs < 0)
			return lfail(l, -EINVAL,
				     ".maps needs .BTF (compile "
				     "with -g)");
		get_shdr(l, (uint32_t)bs, &s);
		bd = sec_data(l, &s);
		if (!bd)
			return lfail(l, -EINVAL, ".BTF out of bounds");
		rc = btf_parse(l, bd, s.size, &btf);
		if (!rc)
			rc = btf_maps(l, &btf);
		free(btf.off);
		if (rc)
			return rc;
	} else if ((l->maps_sec = find_section(l, "maps")) > 0) {
		const uint8_t *md;
		get_shdr(l, (uint32_t)l->maps_sec, &s);
		md = sec_data(l, &s);
		if (!md || !st.d)
			return lfail(l, -EINVAL, "bad legacy maps section");
		rc = legacy_maps(l, &st, &s, md);
		if (rc)
			return rc;
	}

	rc = ebpf_prog_from_insns(pname ? pname : sec_name(l, &ps),
				  (const struct ebpf_insn *)(const void *)pd,
				  (uint32_t)(size / 8), &p);
	if (rc)
		return lfail(l, rc, "out of memory");
	p->type = ptype > 0 ? (uint8_t)ptype : EBPF_PROG_XDP;
	/* The instructions are little-endian in the file, as on x86. */
	memcpy(p->insns, pd + start, size);
	for (uint32_t i = 0; i < l->nspecs; i++) {
		const struct map_spec *m = &l->specs[i];
		rc =
		    ebpf_map_create(m->name, m->type, m->key_size,
				    m->value_size, m->max_entries, &p->maps[i]);
		if (rc) {
			lfail(l, rc,
			      "map '%s': cannot create (type %u key %u value "
			      "%u entries %u)",
			      m->name, m->type, m->key_size, m->value_size,
			      m->max_entries);
			goto fail;
		}
		p->nmaps = i + 1;
	}

	/* Relocations of the program section. */
	for (uint32_t i = 1; i < l->shnum; i++) {
		const uint8_t *rd;

		get_shdr(l, i, &s);
		if (s.type != SHT_REL || s.info != (uint32_t)psec)
			continue;
		rd = sec_data(l, &s);
		if (!rd || s.size % REL_SIZE || !st.d) {
			rc = lfail(l, -EINVAL, "bad relocation section");
			goto fail;
		}
		for (uint64_t k = 0; k < s.size / REL_SIZE; k++) {
			uint64_t off = rd64(rd + k * REL_SIZE);
			uint64_t info = rd64(rd + k * REL_SIZE + 8);
			uint32_t type = (uint32_t)info, symi = info >> 32;
			uint32_t idx, m;
			struct sym sy;
			const char *sname;

			if (off < start || off - start >= size)
				continue; /* another function's */
			if (type == R_BPF_NONE)
				continue;
			if (off % 8 || symi >= st.n) {
				rc = lfail(l, -EINVAL, "bad relocation %llu",
					   (unsigned long long)k);
				goto fail;
			}
			idx = (uint32_t)((off - start) / 8);
			get_sym(&st, symi, &sy);
			sname = str_at(l, st.strtab, sy.name);
			if (!sname)
				sname = "?";
			if (type == R_BPF_64_32) {
				rc = lfail(l, -ENOTSUP,
					   "insn %u: call to '%s': bpf-to-bpf "
					   "calls are not supported (use "
					   "__always_inline)",
					   idx, sname);
				goto fail;
			}
			if (type != R_BPF_64_64) {
				rc = lfail(l, -ENOTSUP,
					   "insn %u: unsupported relocation "
					   "type %u",
					   idx, type);
				goto fail;
			}
			if (idx + 1 >= p->ninsns ||
			    p->insns[idx].code !=
				(EBPF_LD | EBPF_DW | EBPF_IMM)) {
				rc = lfail(l, -EINVAL,
					   "insn %u: relocation not on an "
					   "ld_imm64",
					   idx);
				goto fail;
			}
			for (m = 0; m < l->nspecs; m++)
				if (l->maps_sec > 0 &&
				    sy.shndx == l->maps_sec &&
				    l->specs[m].full_name &&
				    strcmp(l->specs[m].full_name, sname) == 0)
					break;
			if (m == l->nspecs) {
				rc = lfail(l, -ENOTSUP,
					   "insn %u: reference to '%s', which "
					   "is not a map (global data is not "
					   "supported)",
					   idx, sname);
				goto fail;
			}
			p->insns[idx].src = EBPF_PSEUDO_MAP_FD;
			p->insns[idx].imm = (int32_t)m;
			p->insns[idx + 1].imm = 0;
		}
	}

	rc = xdp ? ebpf_prog_prepare_xdp(p, l->err, l->errlen)
		 : ebpf_prog_prepare(p, l->err, l->errlen);
	if (rc)
		goto fail;
	*out = p;
	return 0;
fail:
	ebpf_prog_free(p);
	return rc;
}

int ebpf_load_elf(const void *elf, size_t len, const char *section,
		  struct ebpf_prog **out, char *err, size_t errlen)
{
	struct loader l;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	memset(&l, 0, sizeof(l));
	l.b = elf;
	l.len = elf ? len : 0;
	l.err = err;
	l.errlen = errlen;
	l.maps_sec = -1;
	return load(&l, section, out);
}
