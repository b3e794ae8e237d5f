# Host test of the TC hook (netdev/tc_hook.c) and socket filters
# (lwip-port/sockfilter.c): the shipped programs as the image embeds them
# ($(BUILD)/xdp/xdp_progs.c), the clang-built test programs
# (tests/unit/bpf/tc_fields, sock_fields, from EBPF_TEST_BPF of
# tests/unit/ebpf.mk) and the eBPF runtime, over host lwIP. Recursive (=)
# for the same reason as xdp_path.mk.

UNIT_TESTS += tc_path
UNIT_SRCS_tc_path = tests/unit/test_tc_path.c tests/unit/bpf_obj.c $(XDP_SRCS) \
	$(XDP_PATH_PROGS_C) $(EBPF_SRCS) $(NETDEV_SRCS) \
	$(DRIVERS_VIRTIO_SRCS) $(KERNEL_TEXT_SRCS) kernel/cmdline.c \
	tests/unit/host_kernel_stubs.c tests/unit/host_printf_stub.c \
	tests/unit/lwip_host.c $(LWIP_PORT_HOOK_SRCS)
UNIT_DEPS_tc_path = $(LWIP_STAMP) $(NETIF_LWIP_LIB) $(EBPF_TEST_BPF) \
	$(wildcard xdp/*.h ebpf/*.h netdev/*.h lwip-port/*.h) \
	lwip-port/arch/cc.h $(wildcard drivers/*.h kernel/*.h tests/unit/*.h)
UNIT_CFLAGS_tc_path = $(NETIF_LWIP_INC) \
	-DEBPF_TEST_OBJDIR='"$(EBPF_TEST_OBJDIR)"'
UNIT_LIBS_tc_path = $(NETIF_LWIP_LIB)
