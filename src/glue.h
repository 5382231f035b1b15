/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers for the Rust kmem driver, in the style of rust/helpers/: one
 * wrapper per static inline function that Rust cannot call, and two steps
 * that need the kernel's own types under its locks (the search of a
 * reservation an earlier kmem left behind, the zone of each block of a
 * range).
 */
#ifndef KMEM_GLUE_H
#define KMEM_GLUE_H

#include <linux/range.h>

struct list_head;
struct memory_dev_type;
struct resource;

/**
 * kmem_glue_online_pfn_zone_idx() - zone index of an online pfn
 * @pfn: page frame number
 *
 * Context: the memory hotplug lock is held (a memory notifier callback), so
 * the memmap of @pfn cannot go away.
 * Return: zone_idx(page_zone(pfn_to_online_page(@pfn))), or -1 if @pfn is not
 * online.
 */
int kmem_glue_online_pfn_zone_idx(unsigned long pfn);

/*
 * The memory removal calls go through these helpers because with
 * CONFIG_MEMORY_HOTREMOVE=n the kernel makes them inline stubs (-EBUSY),
 * which Rust cannot call; the driver then behaves like kmem.c without
 * hot-remove: every unplug fails with -EBUSY and changes nothing.
 */

/**
 * kmem_glue_remove_memory() - remove_memory()
 * @start: first byte of memory added by add_memory_driver_managed()
 * @size: its size
 *
 * Return: 0, or -EBUSY if a block is online (never offlines).
 */
int kmem_glue_remove_memory(u64 start, u64 size);

/**
 * kmem_glue_offline_remove_timeout() - offline_and_remove_memory_ranges_timeout()
 * @ranges: the ranges, each added by add_memory_driver_managed()
 * @nr_ranges: number of @ranges
 * @timeout_ms: bound of the offline in milliseconds, 0 for none
 *
 * Context: process context, may sleep.
 * Return: 0 if every range was removed, else the error (nothing removed):
 * -ETIMEDOUT once @timeout_ms have passed, -EINTR on a signal.
 */
int kmem_glue_offline_remove_timeout(const struct range *ranges,
				     unsigned int nr_ranges, unsigned int timeout_ms);

/**
 * kmem_glue_find_stranded() - find the reservation an earlier kmem left behind
 * @start: first byte of the range
 * @end: last byte of the range
 * @name: the reservation's name (the dax device's name)
 * @ram_name: the name of the added memory ("System RAM (kmem)")
 *
 * When a kmem driver is unbound (or unloaded) while a range of its device is
 * online, the range stays added until reboot: a reservation named after the
 * device, with flags IORESOURCE_SYSTEM_RAM, exactly @start..@end, whose only
 * child is the driver-managed System RAM resource @ram_name of the same range.
 *
 * Context: process context; the caller is the kmem driver probing the device
 * that owns the range.
 * Return: that reservation, or NULL if the range is not left over that way.
 */
struct resource *kmem_glue_find_stranded(u64 start, u64 end, const char *name,
					 const char *ram_name);

/**
 * kmem_glue_kmemleak_not_leak() - kmemleak_not_leak()
 * @ptr: start of an allocated object
 */
void kmem_glue_kmemleak_not_leak(const void *ptr);

/**
 * kmem_glue_block_zones() - zone of each memory block of a range
 * @start_pfn: first pfn of the range (block aligned)
 * @nr_blocks: number of memory blocks
 * @block_pages: pages per memory block
 * @zone_idx: out: per block, the zone number of its first page, or -1 if it is
 *	not online
 *
 * Context: the caller owns the range's memory (it was added by kmem and only
 * kmem removes it), so the memmap read stays allocated.  A block offlined
 * concurrently may be reported with its old zone (or, after the memmap was
 * poisoned, an out-of-range number): no pointer is followed.
 */
void kmem_glue_block_zones(unsigned long start_pfn, unsigned long nr_blocks,
			   unsigned long block_pages, int *zone_idx);

/*
 * The memory tier calls go through these helpers because without CONFIG_NUMA
 * the kernel makes them inline stubs (no memory tiers: mt_find_alloc_memory_type()
 * returns NULL, which the driver takes as the C driver does).
 */
int kmem_glue_mt_calc_adistance(int node, int *adist);
struct memory_dev_type *kmem_glue_mt_find_alloc_memory_type(int adist,
							    struct list_head *memory_types);
void kmem_glue_mt_put_memory_types(struct list_head *memory_types);
void kmem_glue_init_node_memory_type(int node, struct memory_dev_type *memtype);
void kmem_glue_clear_node_memory_type(int node, struct memory_dev_type *memtype);

#endif /* KMEM_GLUE_H */
