// SPDX-License-Identifier: GPL-2.0
/*
 * kmem-bench: time sysfs writes in the guest with ns resolution.
 *
 *   kmem-bench FILE VALUE [COUNT [PHASE_NS]]
 *
 * Writes VALUE to FILE (one write() of strlen(VALUE) bytes, after opening the
 * file) COUNT times (default 1) and prints, per write, "ns=N rc=R" where N is
 * the CLOCK_MONOTONIC time of the write() call and R is 0 or the errno.
 * With COUNT > 1, consecutive writes alternate between VALUE and the value
 * after a comma ("offline,online_movable" toggles a memory block).
 *
 * With PHASE_NS, write i starts i * PHASE_NS (modulo one 4 ms tick, HZ=250)
 * after a multiple of 4 ms of CLOCK_MONOTONIC: the writes sample every phase
 * against the timer tick evenly, and the time slept before each write lets
 * the work of the previous one (RCU callbacks, deferred frees) finish first.
 *
 * With KMEM_BENCH_DEBUGFS set to a file of /sys/kernel/debug/kmem/, each line
 * also gets " mm_ns=M": the time the Rust driver spent inside the memory
 * hotplug calls of that write (its "last:" line), or -1.
 *
 * With KMEM_BENCH_VMSTAT set, each line also gets " mig=P": the pages the kernel
 * migrated during the write (/proc/vmstat pgmigrate_success, read before the
 * sleep that precedes the write and after the write, outside the timed
 * interval): the work an offline does for the pages other users left in the
 * memory, which no driver controls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS 4000000LL

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sleeps until the next multiple of TICK_NS plus @offset. */
static void sleep_to_phase(long long offset)
{
	long long t = (now_ns() / TICK_NS + 2) * TICK_NS + offset;
	struct timespec ts = { .tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* The mm_ns= value of the "last:" line of @path, or -1. */
static long long last_mm_ns(const char *path)
{
	static char buf[1 << 20];
	size_t len = 0;
	ssize_t n;
	char *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	p = strstr(buf, "\nlast:");
	p = p ? strstr(p, " mm_ns=") : NULL;
	return p ? atoll(p + 7) : -1;
}

/* The pgmigrate_success counter of /proc/vmstat, or -1. */
static long long migrated(void)
{
	static char buf[1 << 16];
	ssize_t n;
	char *p;
	int fd = open("/proc/vmstat", O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	p = strstr(buf, "\npgmigrate_success ");
	return p ? atoll(p + 20) : -1;
}

int main(int argc, char **argv)
{
	const char *dbg = getenv("KMEM_BENCH_DEBUGFS");
	int vmstat = !!getenv("KMEM_BENCH_VMSTAT");
	long long phase = -1;
	char *vals[2];
	long i, count;
	int fail = 0;

	if (argc < 3)
		return 2;
	count = argc > 3 ? atol(argv[3]) : 1;
	if (argc > 4)
		phase = atoll(argv[4]);
	vals[0] = argv[2];
	vals[1] = strchr(argv[2], ',');
	if (vals[1])
		*vals[1]++ = 0;
	else
		vals[1] = vals[0];
	for (i = 0; i < count; i++) {
		const char *v = vals[i % 2];
		int fd = open(argv[1], O_WRONLY);
		long long t0, t1, m0 = 0;
		ssize_t rc;

		if (fd < 0)
			return 2;
		if (vmstat)
			m0 = migrated();
		if (phase >= 0)
			sleep_to_phase(i * phase % TICK_NS);
		t0 = now_ns();
		rc = write(fd, v, strlen(v));
		t1 = now_ns();
		printf("ns=%lld rc=%d", t1 - t0, rc < 0 ? errno : 0);
		if (vmstat)
			printf(" mig=%lld", migrated() - m0);
		if (dbg)
			printf(" mm_ns=%lld", last_mm_ns(dbg));
		printf("\n");
		fail |= rc < 0;
		close(fd);
	}
	return fail;
}
