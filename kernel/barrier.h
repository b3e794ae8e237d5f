/* Memory barriers for rings shared with devices (virtio) and with interrupt
 * handlers. Three named kinds, as in the virtio spec and Linux virtio_ring.c:
 *
 *   virtio_wmb()  producer: our earlier stores become visible before our
 *                 later stores (fill a descriptor, then publish its index).
 *   virtio_rmb()  consumer: our earlier loads complete before our later
 *                 loads (read an index, then the entries it covers).
 *   virtio_mb()   full: our earlier stores are visible before our later
 *                 loads (publish an index, then read the peer's event index).
 *
 * x86-64 is TSO: stores are not reordered with stores, loads not with loads,
 * so the producer and consumer barriers only have to stop the compiler. The
 * one reordering the hardware does is a later load passing an earlier store
 * (the store buffer), which needs mfence.
 *
 * Every use in a driver carries a one-sentence comment with its reason. */
#ifndef SKIFF_KERNEL_BARRIER_H
#define SKIFF_KERNEL_BARRIER_H

#if !defined(__x86_64__)
#error "barrier.h only knows the x86-64 memory model"
#endif

/* Stops the compiler from moving memory accesses across this point. */
#define compiler_barrier() __asm__ volatile("" : : : "memory")

#define virtio_wmb() compiler_barrier()
#define virtio_rmb() compiler_barrier()
#define virtio_mb()  __asm__ volatile("mfence" : : : "memory")

#endif
