/* Loading a built-in program by name for any hook: the XDP hook, TC
 * ingress/egress (netdev/tc_hook.h) and socket filters
 * (lwip-port/sockfilter.h) all take a struct ebpf_prog made here. */
#include "kernel/kerrno.h"
#include "kernel/log.h"
#include "xdp/xdp_progs.h"

int xdp_builtin_load(const char *name, int type, bool jit, const char *who,
		     struct ebpf_prog **out)
{
	static const char *const type_names[] = {"xdp", "tc", "socket"};
	const struct xdp_builtin *b = xdp_builtin_find(name);
	struct ebpf_prog *p;
	char err[160];
	int rc;

	*out = NULL;
	if (!b) {
		log_error("%s: no built-in program '%s'; available:", who,
			  name);
		for (unsigned i = 0; i < xdp_nbuiltins; i++)
			log_error("%s:   %s", who, xdp_builtins[i].name);
		return -ENOENT;
	}
	rc = ebpf_load_elf(b->elf, b->len, NULL, &p, err, sizeof(err));
	if (rc) {
		log_error("%s: %s refused: %s; serving without it", who, name,
			  err);
		return rc;
	}
	if (p->type != type) {
		log_error("%s: %s is a %s program, not a %s one", who, name,
			  type_names[p->type % 3], type_names[type % 3]);
		ebpf_prog_free(p);
		return -EINVAL;
	}
	if (jit) {
		rc = ebpf_jit(p);
		if (rc)
			log_warn("%s: %s: JIT unavailable (%d), interpreting",
				 who, name, rc);
	}
	log_info("%s: %s attached: %u instructions, %u maps, %s", who, name,
		 p->ninsns, p->nmaps, p->jitted ? "JIT" : "interpreted");
	*out = p;
	return 0;
}
