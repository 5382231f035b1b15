// SPDX-License-Identifier: GPL-2.0
/*
 * offline_and_remove_memory_ranges_timeout() for a kernel without it (see
 * compat.h), with the same contract: offline_and_remove_memory_ranges(),
 * which retries a page that cannot be migrated yet until the caller has a
 * signal pending, made to give up once @timeout jiffies have passed.  A timer
 * makes the caller look as if it had a signal (TIF_NOTIFY_SIGNAL, which
 * offline_pages() checks through signal_pending()), so the offline fails,
 * every range is rolled back, and -EINTR becomes -ETIMEDOUT; the flag is
 * cleared again before returning.  mm's version (the series' patch) checks
 * a deadline in offline_pages() instead.
 */
#include <linux/errno.h>
#include <linux/jiffies.h>
#include <linux/memory_hotplug.h>
#include <linux/sched/signal.h>
#include <linux/timer.h>

struct kmem_compat_deadline {
	struct timer_list timer;
	struct task_struct *task;
	bool fired;
};

static void kmem_compat_deadline_fn(struct timer_list *t)
{
	struct kmem_compat_deadline *d = timer_container_of(d, t, timer);

	d->fired = !test_and_set_tsk_thread_flag(d->task, TIF_NOTIFY_SIGNAL);
}

int kmem_compat_offline_and_remove_memory_ranges_timeout(const struct range *ranges,
							 unsigned int nr_ranges,
							 unsigned long timeout)
{
	struct kmem_compat_deadline d = { .task = current };
	int rc;

	if (!timeout)
		return offline_and_remove_memory_ranges(ranges, nr_ranges);
	timer_setup_on_stack(&d.timer, kmem_compat_deadline_fn, 0);
	mod_timer(&d.timer, jiffies + timeout);
	rc = offline_and_remove_memory_ranges(ranges, nr_ranges);
	timer_delete_sync(&d.timer);
	timer_destroy_on_stack(&d.timer);
	if (d.fired) {
		clear_notify_signal();
		if (rc == -EINTR)
			rc = -ETIMEDOUT;
	}
	return rc;
}
