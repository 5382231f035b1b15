/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers for the Rust kmem driver: one wrapper per static inline
 * function that Rust cannot call, in the style of rust/helpers/.  No policy
 * lives here.
 */
#ifndef KMEM_GLUE_H
#define KMEM_GLUE_H

#include <linux/range.h>

struct list_head;

/**
 * kmem_glue_memory_block_aligned_range() - memory_block_aligned_range()
 * @range: range to align
 *
 * Used only by the KUnit cross-check of the pure-Rust alignment.
 */
struct range kmem_glue_memory_block_aligned_range(const struct range *range);

/**
 * kmem_glue_init_list_head() - INIT_LIST_HEAD()
 * @list: list head to initialise
 */
void kmem_glue_init_list_head(struct list_head *list);

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

/**
 * kmem_glue_offline_remove_timeout() - offline_and_remove_memory_ranges(),
 *	bounded in time
 * @ranges: the ranges, each added by add_memory_driver_managed()
 * @nr_ranges: number of @ranges
 * @timeout_ms: bound of the attempt
 *
 * offline_and_remove_memory_ranges() retries a page that cannot be migrated
 * yet until the caller has a signal pending.  Once @timeout_ms have passed,
 * the caller is made to look as if it had (TIF_NOTIFY_SIGNAL), so that the
 * offline gives up with -EINTR and every range is rolled back; the flag is
 * cleared before returning.
 *
 * Context: process context, may sleep.
 * Return: 0 if every range was removed, else the error (nothing removed).
 */
int kmem_glue_offline_remove_timeout(const struct range *ranges,
				     unsigned int nr_ranges, unsigned int timeout_ms);

#endif /* KMEM_GLUE_H */
