# netdev/: the stack-neutral packet path (the receive hook point).
# One list for the image and the host tests.
NETDEV_SRCS := netdev/rx_hook.c
