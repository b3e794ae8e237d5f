# netdev/: the stack-neutral packet path: the receive hook point, the TX
# path (batching, TSO coalescing, typed completions), the offload
# helpers and the TC hook (tc_hook.c, ingress and egress). One list for the image and the host tests.
NETDEV_SRCS := netdev/rx_hook.c netdev/tx.c netdev/txq.c netdev/offload.c netdev/tc_hook.c \
	netdev/rps.c
