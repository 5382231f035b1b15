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

#endif /* KMEM_GLUE_H */
