// SPDX-License-Identifier: GPL-2.0
/*
 * kmem-fuzz: guest-side fuzzer of /sys/bus/dax/devices/daxX.Y/state and of
 * /sys/module/kmem/parameters/guard (built static on the host by vm-run users).
 *
 *   kmem-fuzz STATE_FILE GUARD_FILE WRITES SEED
 *
 * Each write is random or malformed input: empty-ish, whitespace, every word
 * with random case, prefixes and suffixes, embedded NULs, non-UTF-8 bytes,
 * lengths up to and over PAGE_SIZE.  A model predicts each outcome: sysfs
 * hands the driver at most one page as a C string, and the driver compares it
 * with sysfs_streq().  Invalid input must fail with EINVAL and leave the state
 * unchanged; valid input must behave per the state machine.  Real transitions
 * are kept to online_movable <-> unplugged (an unplug from a kernel zone may
 * legitimately fail), with about 3 in 1000 writes.  Prints counts; exits 1 on
 * any mismatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096
static const char *const words[] = {
	"unplugged", "online", "online_kernel", "online_movable", "offline",
};

static const char *const gwords[] = { "off", "owned", "always" };
static unsigned long long rng;

static unsigned int rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng % n);
}

/* The kernel's sysfs_streq() on C strings. */
static int streq(const char *s1, const char *s2)
{
	while (*s1 && *s1 == *s2) {
		s1++;
		s2++;
	}
	if (*s1 == *s2)
		return 1;
	if (!*s1 && *s2 == '\n' && !s2[1])
		return 1;
	if (*s1 == '\n' && !s1[1] && !*s2)
		return 1;
	return 0;
}

/* What the driver sees: at most one page, NUL-terminated. */
static void as_seen(const char *buf, size_t len, char *out)
{
	size_t n = len < PAGE ? len : PAGE;

	memcpy(out, buf, n);
	out[n] = 0;
}

static size_t gen(char *buf, const char *const *w, int nw)
{
	size_t len = 0, i, n;
	const char *word = w[rnd(nw)];

	switch (rnd(9)) {
	case 0: /* random case */
		for (i = 0; word[i]; i++)
			buf[len++] = rnd(2) && word[i] >= 'a' && word[i] <= 'z' ?
				     word[i] - 32 : word[i];
		break;
	case 1: /* prefix (truncation) */
		len = rnd(strlen(word));
		memcpy(buf, word, len);
		break;
	case 2: /* suffix */
		len = strlen(word);
		memcpy(buf, word, len);
		for (n = rnd(4) + 1; n; n--)
			buf[len++] = "x_\n \t0"[rnd(6)];
		break;
	case 3: /* leading or trailing whitespace */
		buf[len++] = " \t\n\r"[rnd(4)];
		memcpy(buf + len, word, strlen(word));
		len += strlen(word);
		if (rnd(2))
			buf[len++] = " \t\r"[rnd(3)];
		break;
	case 4: /* word, NUL, junk */
		len = strlen(word);
		memcpy(buf, word, len);
		if (rnd(2))
			buf[len++] = '\n';
		buf[len++] = 0;
		for (n = rnd(8) + 1; n; n--)
			buf[len++] = (char)rnd(256);
		break;
	case 5: /* random bytes, non-UTF-8 included */
		for (n = rnd(32) + 1; n; n--)
			buf[len++] = (char)rnd(256);
		break;
	case 6: /* long: up to and over a page */
		len = rnd(2 * PAGE) + 1;
		memset(buf, "a\t\n"[rnd(3)], len);
		if (rnd(2))
			memcpy(buf, word, strlen(word));
		break;
	case 7: /* whitespace only */
		for (n = rnd(5) + 1; n; n--)
			buf[len++] = " \t\n"[rnd(3)];
		break;
	default: /* NUL first */
		buf[len++] = 0;
		memcpy(buf + len, word, strlen(word));
		len += strlen(word);
		break;
	}
	return len;
}

static int read_word(int fd, char *out)
{
	ssize_t n = pread(fd, out, 63, 0);

	if (n <= 0)
		return -1;
	out[n] = 0;
	if (out[n - 1] == '\n')
		out[n - 1] = 0;
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[3 * PAGE], seen[PAGE + 1];
	char cur[64], after[64];
	long writes, k, bad = 0, inval = 0, busy = 0, noop = 0, trans = 0, over = 0;
	int fd, i, match;

	if (argc != 5)
		return 2;
	writes = atol(argv[3]);
	rng = strtoull(argv[4], NULL, 0) * 2654435761ULL + 1;
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || read_word(fd, cur))
		return 2;

	for (k = 0; k < writes;) {
		size_t len;
		int expect_err = 0, expect_trans = 0, r = rnd(1000), ok;
		ssize_t rc;

		if (r < 3) {
			strcpy(buf, strcmp(cur, "unplugged") ? "unplugged" : "online_movable");
			len = strlen(buf);
		} else {
			len = gen(buf, words, 5);
			if (!len)
				continue; /* an empty write never reaches the driver */
		}
		as_seen(buf, len, seen);
		for (match = -1, i = 0; i < 5; i++)
			if (streq(seen, words[i]))
				match = i;
		if (match < 0 || match == 4)
			expect_err = EINVAL;
		else if (!strcmp(words[match], cur))
			expect_err = 0; /* no-op */
		else if (match == 0)
			expect_trans = 1;
		else if (strcmp(cur, "unplugged"))
			expect_err = EBUSY;
		else
			expect_trans = 1;
		if (expect_trans && r >= 3)
			continue; /* keep transitions on the model's track */
		if (expect_trans && match != 0 && match != 3)
			continue;
		rc = pwrite(fd, buf, len, 0);
		k++;
		if (read_word(fd, after))
			return 2;
		if (expect_trans) {
			trans++;
			if (rc != (ssize_t)len || strcmp(after, words[match])) {
				bad++;
				printf("# transition %s in %s: rc %zd errno %d, state %s\n",
				       words[match], cur, rc, errno, after);
			}
			strcpy(cur, after);
			continue;
		}
		if (expect_err == EINVAL)
			inval++;
		else if (expect_err == EBUSY)
			busy++;
		else
			noop++;
		if (len > PAGE)
			over++;
		ok = expect_err ? rc < 0 && errno == expect_err : rc == (ssize_t)len;
		if (!ok || strcmp(after, cur)) {
			bad++;
			printf("# write of %zu bytes: rc %zd errno %d (want %d), state %s -> %s\n",
			       len, rc, rc < 0 ? errno : 0, expect_err, cur, after);
		}
	}
	printf("FUZZ-COUNTS writes=%ld invalid=%ld (over-a-page %ld) ebusy=%ld noop=%ld",
	       inval + busy + noop + trans, inval, over, busy, noop);
	printf(" transitions=%ld mismatches=%ld\n",
	       trans, bad);
	close(fd);

	/* The guard parameter: invalid values refused, the value unchanged. */
	fd = open(argv[2], O_RDWR);
	if (fd < 0 || read_word(fd, cur))
		return 2;
	for (k = 0; k < writes / 10; k++) {
		size_t len;
		ssize_t rc;
		int valid;

		if (!rnd(10)) {
			strcpy(buf, gwords[rnd(3)]);
			len = strlen(buf);
		} else {
			len = gen(buf, gwords, 3);
			if (!len)
				continue;
		}
		as_seen(buf, len, seen);
		for (valid = -1, i = 0; i < 3; i++)
			if (streq(seen, gwords[i]))
				valid = i;
		rc = pwrite(fd, buf, len, 0);
		if (read_word(fd, after))
			return 2;
		if (valid >= 0) {
			if (rc != (ssize_t)len || strcmp(after, gwords[valid])) {
				bad++;
				printf("# guard %s refused\n", gwords[valid]);
			}
			strcpy(cur, after);
		} else if (!(rc < 0 && errno == EINVAL) || strcmp(after, cur)) {
			bad++;
			printf("# guard: invalid value of %zu bytes: rc %zd errno %d, %s -> %s\n",
			       len, rc, errno, cur, after);
		}
	}
	printf("FUZZ-GUARD writes=%ld mismatches=%ld\n", writes / 10, bad);
	return bad ? 1 : 0;
}
