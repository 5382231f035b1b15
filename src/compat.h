/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out of tree only: what the series adds to mm, for a kernel that does not
 * have it (Linux 7.3 as released).  Kbuild force-includes this header and
 * builds compat.c only when the kernel's <linux/memory_hotplug.h> does not
 * declare offline_and_remove_memory_ranges_timeout(); in a kernel tree with
 * the series, the driver calls mm's own.
 */
#ifndef KMEM_COMPAT_H
#define KMEM_COMPAT_H

#include <linux/range.h>

int kmem_compat_offline_and_remove_memory_ranges_timeout(const struct range *ranges,
							 unsigned int nr_ranges,
							 unsigned long timeout);
#define offline_and_remove_memory_ranges_timeout \
	kmem_compat_offline_and_remove_memory_ranges_timeout

#endif /* KMEM_COMPAT_H */
