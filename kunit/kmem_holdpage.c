// SPDX-License-Identifier: GPL-2.0
/*
 * kmem_holdpage: a test-only helper for the fault-injection suite of the Rust
 * kmem driver.  Never loaded in production.
 *
 * It holds one page inside a chosen physical range (a dax device's memory),
 * so that offlining that range cannot complete:
 *
 *   reserved   the page is also marked PageReserved: memory isolation refuses
 *              it at once and offlining fails with -EBUSY ("unmovable page");
 *   transient  the page is only allocated and held: it is not free, not on the
 *              LRU and not movable, so offlining keeps retrying until the hold
 *              is released or the offlining task gets a fatal signal (-EINTR).
 *
 * The page is filled with a pattern that is verified on release, to show that
 * a failed unplug left its data alone.  It can also allocate, write and verify
 * many pages on one node ("touch"), to show leaked memory is still usable.
 *
 * Control file /sys/kernel/debug/kmem_holdpage/control:
 *   hold START END reserved|transient   (hex physical addresses, inclusive)
 *   release
 *   touch NID NR_PAGES
 *   leak                (kzalloc 256 x 32 bytes and forget them: a kmemleak self-test)
 *   churn               (allocate and free many objects of every kmalloc size on
 *                        every CPU, so that no stale pointer hides a leak)
 *   veto START END online|offline   (hex physical addresses, inclusive) a memory
 *                        notifier refuses MEM_GOING_ONLINE (or MEM_GOING_OFFLINE) of
 *                        every memory block that intersects the range, with -EPERM,
 *                        as a driver's notifier may; /sys/kernel/debug/kmem_holdpage/vetoes
 *                        counts the refusals
 *   unveto
 * Reading it reports the last result.
 */
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/cpu.h>
#include <linux/highmem.h>
#include <linux/memory.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#define MAX_TRIES BIT(18) /* 1 GiB of 4 KiB pages */

static DEFINE_MUTEX(hold_lock);
static struct page *held;
static bool held_reserved;
static char result[160];
static struct dentry *dir;

/* The veto: MEM_GOING_ONLINE or MEM_GOING_OFFLINE (-1: none) of [veto_spfn, veto_epfn]. */
static long veto_action = -1;
static unsigned long veto_spfn, veto_epfn;
static atomic_t vetoes = ATOMIC_INIT(0);

static u64 pattern(unsigned long pfn, unsigned int i)
{
	return ((u64)pfn << 20) ^ (0x6b6d656dULL * (i + 1));
}

static void fill(struct page *page)
{
	u64 *p = kmap_local_page(page);
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(u64); i++)
		p[i] = pattern(page_to_pfn(page), i);
	kunmap_local(p);
}

static bool intact(struct page *page)
{
	u64 *p = kmap_local_page(page);
	unsigned int i;
	bool ok = true;

	for (i = 0; i < PAGE_SIZE / sizeof(u64); i++)
		ok &= p[i] == pattern(page_to_pfn(page), i);
	kunmap_local(p);
	return ok;
}

static void release_held(void)
{
	bool ok;

	if (!held)
		return;
	ok = intact(held);
	if (held_reserved)
		ClearPageReserved(held);
	scnprintf(result, sizeof(result), "released pfn=%#lx data=%s\n",
		  page_to_pfn(held), ok ? "intact" : "CORRUPT");
	__free_page(held);
	held = NULL;
}

static int hold(u64 start, u64 end, bool reserved)
{
	unsigned long spfn = PHYS_PFN(start), epfn = PHYS_PFN(end);
	struct page **tmp;
	unsigned long n = 0, i;
	struct page *found = NULL;
	int nid;

	if (held || start > end || !pfn_valid(spfn))
		return -EINVAL;
	nid = pfn_to_nid(spfn);
	/* No allocation can come from a node without memory (offline range). */
	if (!node_state(nid, N_MEMORY))
		return -ENODEV;
	tmp = kvmalloc_array(MAX_TRIES, sizeof(*tmp), GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;
	while (n < MAX_TRIES) {
		struct page *page = alloc_pages_node(nid, GFP_HIGHUSER_MOVABLE | __GFP_THISNODE |
						     __GFP_NOWARN | __GFP_NORETRY, 0);

		if (!page)
			break;
		if (page_to_pfn(page) >= spfn && page_to_pfn(page) <= epfn) {
			found = page;
			break;
		}
		tmp[n++] = page;
	}
	for (i = 0; i < n; i++)
		__free_page(tmp[i]);
	kvfree(tmp);
	if (!found) {
		scnprintf(result, sizeof(result), "no page found in %#llx-%#llx\n", start, end);
		return -ENOSPC;
	}
	fill(found);
	if (reserved)
		SetPageReserved(found);
	held = found;
	held_reserved = reserved;
	scnprintf(result, sizeof(result), "held pfn=%#lx phys=%#llx mode=%s\n",
		  page_to_pfn(found), (u64)PFN_PHYS(page_to_pfn(found)),
		  reserved ? "reserved" : "transient");
	return 0;
}

static int touch(int nid, unsigned long nr)
{
	struct page **pages;
	unsigned long i, got = 0, good = 0;

	if (nid < 0 || nid >= MAX_NUMNODES || !node_state(nid, N_MEMORY) || !nr || nr > MAX_TRIES)
		return -EINVAL;
	pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		pages[i] = alloc_pages_node(nid, GFP_HIGHUSER_MOVABLE | __GFP_THISNODE |
					    __GFP_NOWARN | __GFP_NORETRY, 0);
		if (!pages[i])
			break;
		got++;
		fill(pages[i]);
	}
	for (i = 0; i < got; i++) {
		good += intact(pages[i]);
		__free_page(pages[i]);
	}
	kvfree(pages);
	scnprintf(result, sizeof(result), "touched node=%d pages=%lu verified=%lu\n",
		  nid, got, good);
	return 0;
}

/*
 * "leak": kzalloc 256 objects of 32 bytes and forget them, so that the leak-check
 * suite can show that its kmemleak scans do report unreferenced objects.
 *
 * "churn": on every online CPU, allocate CHURN objects of every kmalloc size up to
 * 8 KiB, then free them all.  The slab allocator keeps stale copies of the
 * pointers it handed out (the slots of the per-CPU sheaves, and of the empty
 * sheaves in a node's barn, are not cleared on allocation), kmemleak scans those
 * arrays, and so a freshly leaked kmalloc object stays hidden until the slot is
 * reused: without a churn, 58 to 187 of the 256 objects above were reported by
 * the first scans.  A churn larger than all sheaves of a cache (see
 * churn_count()) overwrites every slot with the address of an object that is
 * free again.  The leak-check suite churns before its decisive scans, and the
 * guest's init before the scan that ends every debug-kernel run, so that the
 * driver's own leaks cannot hide either.
 */
#define LEAK_COUNT 256
#define CHURN 1800

static noinline int leak_some(void)
{
	int i;

	for (i = 0; i < LEAK_COUNT; i++)
		if (!kzalloc(32, GFP_KERNEL))
			return -ENOMEM;
	scnprintf(result, sizeof(result), "leaked %d objects of 32 bytes\n", LEAK_COUNT);
	return 0;
}

/*
 * Objects per kmalloc size: more than all sheaves of its cache can hold (2 per CPU and 20
 * in the barn, of about 64 slots below 256 bytes, 32 below 1 KiB, 16 below 4 KiB, 8 above).
 */
static unsigned int churn_count(size_t size)
{
	return size < 256 ? CHURN : size < 1024 ? CHURN / 2 : size < 4096 ? CHURN / 4 : CHURN / 8;
}

static long churn_this_cpu(void *objs)
{
	static const size_t sizes[] = {
		8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192
	};
	void **churn = objs;
	unsigned int i, n;
	int s;

	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		n = churn_count(sizes[s]);
		for (i = 0; i < n; i++)
			churn[i] = kmalloc(sizes[s], GFP_KERNEL);
		for (i = 0; i < n; i++)
			kfree(churn[i]);
	}
	return 0;
}

static int churn_caches(void)
{
	void **churn = kvmalloc_array(CHURN, sizeof(*churn), GFP_KERNEL);
	int cpu, n = 0;

	if (!churn)
		return -ENOMEM;
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		work_on_cpu(cpu, churn_this_cpu, churn);
		n++;
	}
	cpus_read_unlock();
	kvfree(churn);
	scnprintf(result, sizeof(result), "churned the kmalloc caches on %d CPUs\n", n);
	return 0;
}

static int veto_cb(struct notifier_block *nb, unsigned long action, void *arg)
{
	const struct memory_notify *mn = arg;

	if ((long)action != READ_ONCE(veto_action) ||
	    mn->start_pfn + mn->nr_pages <= READ_ONCE(veto_spfn) ||
	    mn->start_pfn > READ_ONCE(veto_epfn))
		return NOTIFY_OK;
	atomic_inc(&vetoes);
	pr_info("kmem_holdpage: vetoed %s of pfn %#lx-%#lx\n",
		action == MEM_GOING_ONLINE ? "online" : "offline", mn->start_pfn,
		mn->start_pfn + mn->nr_pages - 1);
	return notifier_from_errno(-EPERM);
}

static struct notifier_block veto_nb = { .notifier_call = veto_cb };

static int veto(u64 start, u64 end, const char *what)
{
	long action;

	if (start > end)
		return -EINVAL;
	if (!strcmp(what, "online"))
		action = MEM_GOING_ONLINE;
	else if (!strcmp(what, "offline"))
		action = MEM_GOING_OFFLINE;
	else
		return -EINVAL;
	WRITE_ONCE(veto_action, -1);
	WRITE_ONCE(veto_spfn, PHYS_PFN(start));
	WRITE_ONCE(veto_epfn, PHYS_PFN(end));
	WRITE_ONCE(veto_action, action);
	scnprintf(result, sizeof(result), "refusing %s of %#llx-%#llx\n", what, start, end);
	return 0;
}

static ssize_t control_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	char buf[96], mode[16];
	unsigned long long start, end;
	unsigned long nr;
	int nid, rc;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	mutex_lock(&hold_lock);
	if (sscanf(buf, "hold %llx %llx %15s", &start, &end, mode) == 3 &&
	    (!strcmp(mode, "reserved") || !strcmp(mode, "transient"))) {
		rc = hold(start, end, !strcmp(mode, "reserved"));
	} else if (sysfs_streq(buf, "release")) {
		release_held();
		rc = 0;
	} else if (sscanf(buf, "touch %d %lu", &nid, &nr) == 2) {
		rc = touch(nid, nr);
	} else if (sysfs_streq(buf, "leak")) {
		rc = leak_some();
	} else if (sysfs_streq(buf, "churn")) {
		rc = churn_caches();
	} else if (sscanf(buf, "veto %llx %llx %15s", &start, &end, mode) == 3) {
		rc = veto(start, end, mode);
	} else if (sysfs_streq(buf, "unveto")) {
		WRITE_ONCE(veto_action, -1);
		scnprintf(result, sizeof(result), "no veto\n");
		rc = 0;
	} else {
		rc = -EINVAL;
	}
	mutex_unlock(&hold_lock);
	return rc ? rc : len;
}

static ssize_t control_read(struct file *file, char __user *ubuf, size_t len, loff_t *ppos)
{
	char buf[sizeof(result)];

	mutex_lock(&hold_lock);
	strscpy(buf, result, sizeof(buf));
	mutex_unlock(&hold_lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, strlen(buf));
}

static const struct file_operations control_fops = {
	.owner = THIS_MODULE,
	.read = control_read,
	.write = control_write,
};

static int __init holdpage_init(void)
{
	int rc = register_memory_notifier(&veto_nb);

	if (rc)
		return rc;
	strscpy(result, "none\n", sizeof(result));
	dir = debugfs_create_dir("kmem_holdpage", NULL);
	debugfs_create_file("control", 0600, dir, NULL, &control_fops);
	debugfs_create_atomic_t("vetoes", 0400, dir, &vetoes);
	return 0;
}

static void __exit holdpage_exit(void)
{
	debugfs_remove_recursive(dir);
	unregister_memory_notifier(&veto_nb);
	mutex_lock(&hold_lock);
	release_held();
	mutex_unlock(&hold_lock);
}

module_init(holdpage_init);
module_exit(holdpage_exit);
MODULE_DESCRIPTION("Test helper for the Rust kmem driver: hold a page of a dax device's memory");
MODULE_LICENSE("GPL");
