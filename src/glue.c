// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers for the Rust kmem driver (see glue.h): what Rust cannot call
 * (static inline functions, stubs without MEMORY_HOTREMOVE) and the steps
 * that need the kernel's own types under its locks.
 */
#include <linux/ioport.h>
#include <linux/jiffies.h>
#include <linux/kmemleak.h>
#include <linux/memory.h>
#include <linux/memory-tiers.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/string.h>
#include "glue.h"

int kmem_glue_online_pfn_zone_idx(unsigned long pfn)
{
	struct page *page = pfn_to_online_page(pfn);

	return page ? zone_idx(page_zone(page)) : -1;
}

int kmem_glue_remove_memory(u64 start, u64 size)
{
	return remove_memory(start, size);
}

int kmem_glue_offline_remove_timeout(const struct range *ranges,
				     unsigned int nr_ranges, unsigned int timeout_ms)
{
	return offline_and_remove_memory_ranges_timeout(ranges, nr_ranges,
							msecs_to_jiffies(timeout_ms));
}

struct kmem_glue_stranded {
	u64 start, end;
	const char *name, *ram_name;
	struct resource *found;
};

/*
 * @ram is a copy made under the resource lock; its parent pointer is the
 * real reservation.  Reading the reservation and its child after the walk
 * dropped the lock is safe because only kmem changes them: nothing but a
 * kmem driver adds or removes driver-managed memory in a dax device's range,
 * and the caller is the only kmem driver there is, probing this device.
 */
static int kmem_glue_match_stranded(struct resource *ram, void *arg)
{
	struct kmem_glue_stranded *s = arg;
	struct resource *res = ram->parent, *child;

	if (ram->start != s->start || ram->end != s->end || !res)
		return 0;
	if (res->start != s->start || res->end != s->end ||
	    res->flags != IORESOURCE_SYSTEM_RAM || !res->name || strcmp(res->name, s->name))
		return 0;
	child = res->child;
	if (!child || child->sibling || child->start != s->start || child->end != s->end ||
	    !(child->flags & IORESOURCE_BUSY) || !child->name || strcmp(child->name, s->ram_name))
		return 0;
	s->found = res;
	return 1;
}

struct resource *kmem_glue_find_stranded(u64 start, u64 end, const char *name,
					 const char *ram_name)
{
	struct kmem_glue_stranded s = {
		.start = start, .end = end, .name = name, .ram_name = ram_name,
	};

	walk_iomem_res_desc(IORES_DESC_NONE,
			    IORESOURCE_SYSTEM_RAM | IORESOURCE_SYSRAM_DRIVER_MANAGED, start, end,
			    &s, kmem_glue_match_stranded);
	return s.found;
}

void kmem_glue_kmemleak_not_leak(const void *ptr)
{
	kmemleak_not_leak(ptr);
}

void kmem_glue_block_zones(unsigned long start_pfn, unsigned long nr_blocks,
			   unsigned long block_pages, int *zone_idx)
{
	unsigned long i;

	for (i = 0; i < nr_blocks; i++) {
		struct page *page = pfn_to_online_page(start_pfn + i * block_pages);

		/* Only the memmap itself is read: no pointer in it is followed. */
		zone_idx[i] = page ? page_zonenum(page) : -1;
	}
}

int kmem_glue_mt_calc_adistance(int node, int *adist)
{
	return mt_calc_adistance(node, adist);
}

struct memory_dev_type *kmem_glue_mt_find_alloc_memory_type(int adist,
							    struct list_head *memory_types)
{
	return mt_find_alloc_memory_type(adist, memory_types);
}

void kmem_glue_mt_put_memory_types(struct list_head *memory_types)
{
	mt_put_memory_types(memory_types);
}

void kmem_glue_init_node_memory_type(int node, struct memory_dev_type *memtype)
{
	init_node_memory_type(node, memtype);
}

void kmem_glue_clear_node_memory_type(int node, struct memory_dev_type *memtype)
{
	clear_node_memory_type(node, memtype);
}
