// SPDX-License-Identifier: GPL-2.0
/*
 * kmem-failnth: one write with the Nth fault point of this task failed (systematic fault
 * injection, Documentation/fault-injection/fault-injection.rst: /proc/thread-self/fail-nth).
 *
 *   kmem-failnth N FILE VALUE
 *
 * FILE is opened first; then fail-nth is set to N and VALUE written to FILE (one write(2), so
 * that everything the kernel does for it runs in this task: a dax bind's probe, a state
 * transition, an unbind). Prints the write's outcome and whether the Nth fault point was
 * reached, "ERRNO hit" or "ERRNO miss" (ERRNO: OK, ENOMEM, EEXIST, ...), and resets fail-nth.
 * N = 0 writes with no fault armed. The fault points counted are those that the debugfs
 * attributes of failslab and fail_page_alloc let fail (fault-sweep.sh sets them).
 * Exit status 0 but for a usage or setup error (2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *errno_name(int e)
{
	static char other[16];

	switch (e) {
	case 0: return "OK";
	case ENOMEM: return "ENOMEM";
	case EEXIST: return "EEXIST";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case ENODEV: return "ENODEV";
	case ENOENT: return "ENOENT";
	case ENOSPC: return "ENOSPC";
	case EAGAIN: return "EAGAIN";
	case EINTR: return "EINTR";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case ERANGE: return "ERANGE";
	case EFAULT: return "EFAULT";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EIO: return "EIO";
	case EPERM: return "EPERM";
	}
	snprintf(other, sizeof(other), "E%d", e);
	return other;
}

int main(int argc, char **argv)
{
	char buf[32];
	ssize_t r;
	int fd, nth, len, err;
	long n;

	if (argc != 4) {
		fprintf(stderr, "usage: kmem-failnth N FILE VALUE\n");
		return 2;
	}
	n = strtol(argv[1], NULL, 10);
	fd = open(argv[2], O_WRONLY);
	if (fd < 0) {
		perror(argv[2]);
		return 2;
	}
	nth = open("/proc/thread-self/fail-nth", O_RDWR);
	if (nth < 0) {
		perror("/proc/thread-self/fail-nth");
		return 2;
	}
	len = snprintf(buf, sizeof(buf), "%ld", n);
	if (write(nth, buf, len) != len) {
		perror("arm fail-nth");
		return 2;
	}
	r = write(fd, argv[3], strlen(argv[3]));
	err = r < 0 ? errno : 0;
	/* What is left of the count: 0 once the Nth fault point failed. */
	len = pread(nth, buf, sizeof(buf) - 1, 0);
	if (write(nth, "0", 1) != 1 || len <= 0) {
		perror("read or reset fail-nth");
		return 2;
	}
	buf[len] = 0;
	printf("%s %s\n", errno_name(err), n > 0 && atol(buf) == 0 ? "hit" : "miss");
	return 0;
}
