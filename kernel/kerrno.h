/* Negative errno codes used across Skiff (values as in Linux). */
#ifndef SKIFF_KERNEL_KERRNO_H
#define SKIFF_KERNEL_KERRNO_H

#define EPERM	  1
#define ENOENT	  2
#define EIO	  5
#define E2BIG	  7
#define EAGAIN	  11
#define ENOMEM	  12
#define EFAULT	  14
#define EBUSY	  16
#define EEXIST	  17
#define ENODEV	  19
#define EINVAL	  22
#define EMFILE	  24
#define ENOSPC	  28
#define ERANGE	  34
#define ENOSYS	  38
#define ENOTSUP	  95
#define ENOBUFS	  105
#define ETIMEDOUT 110

#endif
