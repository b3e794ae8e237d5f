# lwip-port/: the glue between netdev and lwIP (skiffif.c) and lwIP's
# system layer (sys_arch.c); one list for the image, LWIP_PORT_GLUE_SRCS
# for the host tests (which bring their own system shims).
LWIP_PORT_GLUE_SRCS := lwip-port/skiffif.c
# What lwIP calls through its LWIP_HOOK_* macros (lwip_hooks.h): the host
# tests that link lwIP need them too.
LWIP_PORT_HOOK_SRCS := lwip-port/tcp_guard.c lwip-port/rfc6528.c \
	lwip-port/tcp_budget.c lwip-port/tcp_reaper.c lwip-port/sockfilter.c
LWIP_PORT_SRCS := $(LWIP_PORT_GLUE_SRCS) $(LWIP_PORT_HOOK_SRCS) \
	lwip-port/sys_arch.c lwip-port/lwip_stats64.c

# lwIP, built from Debian's `lwip` source package (2.1.3+dfsg1) with the
# kernel's own flags. Included by the top-level Makefile, which defines BUILD,
# CC, KCFLAGS, IMAGE_OBJS (recursively) and EXTRA_OBJS before including this,
# after every other component's .mk.
#
# tools/fetch-lwip.sh produces $(BUILD)/lwip-src (checksum-verified, cached
# by its .stamp); nothing of lwIP is in the repository. Configuration is
# lwip-port/lwipopts.h and lwip-port/arch/cc.h, which lwIP's own headers
# include by bare name: -Ilwip-port is their include root (our code includes
# everything by path from the repository root).
#
#   make lwip                           just fetch and compile lwIP
#   make LWIP_TARBALL=/path/lwip_2.1.3+dfsg1.orig.tar.xz   use a local copy

LWIP_SRC   := $(BUILD)/lwip-src
LWIP_STAMP := $(LWIP_SRC)/.stamp
LWIP_OBJ   := $(BUILD)/lwip

# Every file that includes an lwIP header needs this (lwip-port/,
# services/, app/): it is added to KCFLAGS below.
LWIP_INCLUDES := -I$(LWIP_SRC)/src/include

# Sources relative to $(LWIP_SRC)/src, listed explicitly: the tree does not
# exist yet when make computes the object list on a clean clone. This is
# COREFILES + CORE4FILES + CORE6FILES of lwIP's src/Filelists.mk, the
# Ethernet layer, lwiperf, and api/err.c for lwip_strerr() (only compiled
# in, and only needed, with LWIP_DEBUG). The IPv6 and altcp files compile to (almost)
# nothing while lwipopts.h leaves LWIP_IPV6 and LWIP_ALTCP off; they are
# listed so that turning either on is a one-line change in lwipopts.h.
LWIP_FILES := \
	core/init core/def core/dns core/inet_chksum core/ip core/mem \
	core/memp core/netif core/pbuf core/raw core/stats core/sys \
	core/altcp core/altcp_alloc core/altcp_tcp core/tcp core/tcp_in \
	core/tcp_out core/timeouts core/udp \
	core/ipv4/autoip core/ipv4/dhcp core/ipv4/etharp core/ipv4/icmp \
	core/ipv4/igmp core/ipv4/ip4_frag core/ipv4/ip4 core/ipv4/ip4_addr \
	core/ipv6/dhcp6 core/ipv6/ethip6 core/ipv6/icmp6 core/ipv6/inet6 \
	core/ipv6/ip6 core/ipv6/ip6_addr core/ipv6/ip6_frag core/ipv6/mld6 \
	core/ipv6/nd6 \
	netif/ethernet \
	apps/lwiperf/lwiperf \
	api/err
LWIP_OBJS := $(patsubst %,$(LWIP_OBJ)/%.o,$(LWIP_FILES))

# lwIP-only relaxations of the kernel's warnings (KCFLAGS has -Werror).
LWIP_CFLAGS :=

# Fetch (or reuse) the tree. The script returns at once when the stamp holds
# the pinned checksum; touching the stamp afterwards keeps an edited script
# from re-running on every build (the edit rebuilds lwIP once instead).
$(LWIP_STAMP): tools/fetch-lwip.sh
	BUILD=$(BUILD) LWIP_TARBALL=$(LWIP_TARBALL) tools/fetch-lwip.sh
	@touch $@

# The sources come with the tree. The dependency files name them, so after
# `rm -rf $(LWIP_SRC)` this rule (not "no rule to make ...") brings them back.
$(LWIP_SRC)/src/%.c: $(LWIP_STAMP) ;

$(LWIP_OBJS): $(LWIP_OBJ)/%.o: $(LWIP_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) $(LWIP_CFLAGS) -MMD -MP -c $(LWIP_SRC)/src/$*.c -o $@

# Every kernel object may include lwIP headers (the main loop calls
# sys_check_timeouts()), so the tree must exist before any of them compiles
# (order-only: the stamp's age says nothing about kernel sources).
KCFLAGS += $(LWIP_INCLUDES)
$(IMAGE_OBJS): | $(LWIP_STAMP)

EXTRA_OBJS += $(LWIP_OBJS)

.PHONY: lwip
lwip: $(LWIP_OBJS)

-include $(LWIP_OBJS:.o=.d)
