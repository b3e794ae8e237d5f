# Host test of the lwIP netif glue (lwip-port/skiffif.c): the real glue,
# virtio-net driver and rings against the simulated device, on top of lwIP's
# core compiled for the host with our lwipopts.h (see unit.mk).
#
# lwIP comes from the tree `make` fetches (lwip-port/lwip.mk, which the top
# Makefile includes before this file and which has the rule for the stamp),
# so the test depends on the stamp and builds from a clean clone. lwIP is
# compiled once into a host library with the unit-test flags (sanitizers,
# -DSKIFF_HOST_TEST, which makes SYS_ARCH_PROTECT a no-op in arch/cc.h), so
# editing the glue or the test does not recompile the stack.

LWIP_SRC ?= $(BUILD)/lwip-src
LWIP_STAMP ?= $(LWIP_SRC)/.stamp

# What lwip_init() and an IPv4 Ethernet netif pull in with our lwipopts.h
# (DHCP, DNS and IGMP are on, so init.c and timeouts.c reference them).
NETIF_LWIP_FILES := core/init core/def core/dns core/inet_chksum core/ip \
	core/mem core/memp core/netif core/pbuf core/stats core/sys \
	core/tcp core/tcp_in core/tcp_out core/timeouts core/udp \
	core/ipv4/dhcp core/ipv4/etharp core/ipv4/icmp core/ipv4/igmp \
	core/ipv4/ip4 core/ipv4/ip4_addr core/ipv4/ip4_frag \
	netif/ethernet
NETIF_LWIP_OBJS := $(patsubst %,$(BUILD)/host/lwip/%.o,$(NETIF_LWIP_FILES))
NETIF_LWIP_LIB := $(BUILD)/host/liblwip-host.a
NETIF_LWIP_INC := -I$(LWIP_SRC)/src/include

# UNIT_CFLAGS is set after the unit .mk files are read; recipes expand it
# when they run.
$(NETIF_LWIP_OBJS): $(BUILD)/host/lwip/%.o: $(LWIP_STAMP) \
		lwip-port/lwipopts.h lwip-port/arch/cc.h lwip-port/lwip_hooks.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(UNIT_CFLAGS) $(NETIF_LWIP_INC) -c $(LWIP_SRC)/src/$*.c -o $@

$(NETIF_LWIP_LIB): $(NETIF_LWIP_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

UNIT_TESTS += netif
UNIT_SRCS_netif := tests/unit/test_netif.c $(LWIP_PORT_GLUE_SRCS) \
	$(NETDEV_SRCS) $(EBPF_SRCS) $(DRIVERS_VIRTIO_SRCS) $(KERNEL_TEXT_SRCS) \
	tests/unit/sim_virtio.c tests/unit/host_kernel_stubs.c \
	tests/unit/host_printf_stub.c tests/unit/lwip_host.c \
	$(LWIP_PORT_HOOK_SRCS)
UNIT_DEPS_netif := $(LWIP_STAMP) $(NETIF_LWIP_LIB) lwip-port/skiffif.h \
	lwip-port/lwipopts.h lwip-port/arch/cc.h \
	$(wildcard drivers/*.h netdev/*.h kernel/*.h tests/unit/*.h)
UNIT_CFLAGS_netif := $(NETIF_LWIP_INC)
UNIT_LIBS_netif := $(NETIF_LWIP_LIB)

# The SYN-flood guard (lwip-port/tcp_guard.c) inside lwIP's real TCP input,
# over a netif that only records what lwIP sends.
UNIT_TESTS += tcp_guard
UNIT_SRCS_tcp_guard := tests/unit/test_tcp_guard.c $(LWIP_PORT_HOOK_SRCS) \
	$(EBPF_SRCS) $(KERNEL_TEXT_SRCS) tests/unit/lwip_host.c \
	tests/unit/host_kernel_stubs.c tests/unit/host_printf_stub.c
UNIT_DEPS_tcp_guard := $(LWIP_STAMP) $(NETIF_LWIP_LIB) lwip-port/tcp_guard.h \
	lwip-port/tcp_budget.h lwip-port/tcp_reaper.h \
	lwip-port/lwipopts.h tests/unit/lwip_host.h
UNIT_CFLAGS_tcp_guard := $(NETIF_LWIP_INC)
UNIT_LIBS_tcp_guard := $(NETIF_LWIP_LIB)
