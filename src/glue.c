// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers for the Rust kmem driver (see glue.h), plus compile-time checks
 * of every layout and value assumption the Rust side makes about the
 * private dax headers.
 */
#include <linux/mm.h>	/* first: dax-private.h is not self-contained */
#include <linux/build_bug.h>
#include <linux/list.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/sched/signal.h>
#include <linux/stddef.h>
#include <linux/timer.h>
#include "dax-private.h"
#include "bus.h"
#include "glue.h"

/* src/mhp.rs maps OnlineType to these values one to one. */
static_assert(MMOP_OFFLINE == 0);
static_assert(MMOP_ONLINE == 1);
static_assert(MMOP_ONLINE_KERNEL == 2);
static_assert(MMOP_ONLINE_MOVABLE == 3);
/* src/dax.rs registers the driver with this type. */
static_assert(DAXDRV_KMEM_TYPE == 0);
/* src/state.rs represents "unplugged" as a separate state. */
static_assert(DAX_KMEM_UNPLUGGED < MMOP_OFFLINE);

struct range kmem_glue_memory_block_aligned_range(const struct range *range)
{
	return memory_block_aligned_range(range);
}

int kmem_glue_online_pfn_zone_idx(unsigned long pfn)
{
	struct page *page = pfn_to_online_page(pfn);

	return page ? zone_idx(page_zone(page)) : -1;
}

void kmem_glue_init_list_head(struct list_head *list)
{
	INIT_LIST_HEAD(list);
}

struct kmem_glue_deadline {
	struct timer_list timer;
	struct task_struct *task;
	bool fired;
};

static void kmem_glue_deadline_fn(struct timer_list *t)
{
	struct kmem_glue_deadline *d = timer_container_of(d, t, timer);

	/*
	 * Interrupt the offline retry loop the way a signal does: offline_pages()
	 * checks signal_pending(), which TIF_NOTIFY_SIGNAL satisfies without any
	 * signal being queued.  The flag is cleared again below (and by
	 * get_signal() on the way back to user space).
	 */
	d->fired = !test_and_set_tsk_thread_flag(d->task, TIF_NOTIFY_SIGNAL);
}

int kmem_glue_offline_remove_timeout(const struct range *ranges,
				     unsigned int nr_ranges, unsigned int timeout_ms)
{
	struct kmem_glue_deadline d = { .task = current };
	int rc;

	timer_setup_on_stack(&d.timer, kmem_glue_deadline_fn, 0);
	mod_timer(&d.timer, jiffies + msecs_to_jiffies(timeout_ms));
	rc = offline_and_remove_memory_ranges(ranges, nr_ranges);
	timer_delete_sync(&d.timer);
	timer_destroy_on_stack(&d.timer);
	if (d.fired)
		clear_notify_signal();
	return rc;
}
