// SPDX-License-Identifier: GPL-2.0
/*
 * kmem-bench: time sysfs writes in the guest with ns resolution.
 *
 *   kmem-bench FILE VALUE [COUNT]
 *
 * Writes VALUE to FILE (one write() of strlen(VALUE) bytes, after opening the
 * file) COUNT times (default 1) and prints, per write, "ns=N rc=R" where N is
 * the CLOCK_MONOTONIC time of the write() call and R is 0 or the errno.
 * With COUNT > 1, consecutive writes alternate between VALUE and the value
 * after a comma ("offline,online_movable" toggles a memory block).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	char *vals[2];
	long i, count;
	int fail = 0;

	if (argc < 3)
		return 2;
	count = argc > 3 ? atol(argv[3]) : 1;
	vals[0] = argv[2];
	vals[1] = strchr(argv[2], ',');
	if (vals[1])
		*vals[1]++ = 0;
	else
		vals[1] = vals[0];
	for (i = 0; i < count; i++) {
		const char *v = vals[i % 2];
		int fd = open(argv[1], O_WRONLY);
		long long t0, t1;
		ssize_t rc;

		if (fd < 0)
			return 2;
		t0 = now_ns();
		rc = write(fd, v, strlen(v));
		t1 = now_ns();
		printf("ns=%lld rc=%d\n", t1 - t0, rc < 0 ? errno : 0);
		fail |= rc < 0;
		close(fd);
	}
	return fail;
}
