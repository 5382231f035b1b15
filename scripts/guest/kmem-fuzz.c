// SPDX-License-Identifier: GPL-2.0
/*
 * kmem-fuzz: guest-side fuzzer of /sys/bus/dax/devices/daxX.Y/state and of the
 * module's parameters guard, unbind and online_type (built static on the host by vm-run
 * users).
 *
 *   kmem-fuzz STATE_FILE PARAM_DIR WRITES SEED FIRST_BLOCK NR_BLOCKS BLOCK_KB BASE_KB
 *
 * (FIRST_BLOCK, NR_BLOCKS: the device's memoryN; BLOCK_KB: the block size; BASE_KB: MemTotal
 * with the device unplugged.)
 *
 * Each write is random or malformed input: empty-ish, whitespace, every word
 * with random case, prefixes and suffixes, embedded NULs, non-UTF-8 bytes,
 * lengths up to and over PAGE_SIZE.  A model predicts each outcome: sysfs
 * hands the driver at most one page as a C string, and the driver compares it
 * with sysfs_streq().  Invalid input must fail with EINVAL and leave the state
 * unchanged; valid input must behave per the state machine.  Real transitions
 * are kept to online_movable <-> unplugged (an unplug from a kernel zone may
 * legitimately fail), with about 3 in 1000 writes, and made only from unplugged,
 * offline and online_movable (the run may start in any state; from online and
 * online_kernel it stays there).  After every real transition the device must be
 * wholly in its new state: every block online in ZONE_MOVABLE (or none present)
 * and MemTotal the baseline plus the device (or the baseline).  Then WRITES/10
 * writes to each parameter: a valid value is taken, an invalid one refused with
 * EINVAL and the value unchanged; each parameter is set back to its value before.
 * Prints counts; exits 1 on any mismatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
static const char *const words[] = {
	"unplugged", "online", "online_kernel", "online_movable", "offline",
};

struct param {
	const char *name;
	const char *const *words;
	int nwords;
};

static const char *const gwords[] = { "off", "owned", "always" };
static const char *const uwords[] = { "keep", "unplug" };
static const char *const owords[] = {
	"system", "offline", "online", "online_kernel", "online_movable", "unplugged",
};

static const struct param params[] = {
	{ "guard", gwords, 3 }, { "unbind", uwords, 2 }, { "online_type", owords, 6 },
};

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

static long first_block, nr_blocks, block_kb, base_kb;

static long memtotal_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* The device is wholly in STATE (unplugged or online_movable): 0, else prints what is not. */
static int device_is(const char *state)
{
	int plugged = !strcmp(state, "online_movable");
	long b, present = 0, movable = 0, mt = memtotal_kb();
	char path[96], word[64];
	int fd;

	for (b = first_block; b < first_block + nr_blocks; b++) {
		snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%ld/valid_zones", b);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		present++;
		if (!read_word(fd, word) && !strncmp(word, "Movable", 7))
			movable++;
		close(fd);
		snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%ld/state", b);
		fd = open(path, O_RDONLY);
		if (fd < 0 || read_word(fd, word) || strcmp(word, "online"))
			movable--; /* not online: its zone says nothing */
		if (fd >= 0)
			close(fd);
	}
	if (plugged && present == nr_blocks && movable == nr_blocks &&
	    mt == base_kb + nr_blocks * block_kb)
		return 0;
	if (!plugged && present == 0 && mt == base_kb)
		return 0;
	printf("# after the transition to %s: %ld of %ld blocks present,",
	       state, present, nr_blocks);
	printf(" %ld online in ZONE_MOVABLE,", movable);
	printf(" MemTotal %ld kB (baseline %ld)\n", mt, base_kb);
	return 1;
}

/* WRITES writes to the parameter: valid values taken, invalid ones refused and nothing changed. */
static long fuzz_param(const char *dir, const struct param *p, long writes)
{
	static char buf[3 * PAGE], seen[PAGE + 1];
	char path[256], cur[64], orig[64], after[64];
	long k, bad = 0, valid_n = 0;
	int fd, i, valid;

	snprintf(path, sizeof(path), "%s/%s", dir, p->name);
	fd = open(path, O_RDWR);
	if (fd < 0 || read_word(fd, cur))
		return 1000000;
	strcpy(orig, cur);
	for (k = 0; k < writes; k++) {
		size_t len;
		ssize_t rc;

		if (!rnd(10)) {
			strcpy(buf, p->words[rnd(p->nwords)]);
			len = strlen(buf);
		} else {
			len = gen(buf, p->words, p->nwords);
			if (!len)
				continue;
		}
		as_seen(buf, len, seen);
		for (valid = -1, i = 0; i < p->nwords; i++)
			if (streq(seen, p->words[i]))
				valid = i;
		rc = pwrite(fd, buf, len, 0);
		if (read_word(fd, after))
			return bad + 1000000;
		if (valid >= 0) {
			valid_n++;
			if (rc != (ssize_t)len || strcmp(after, p->words[valid])) {
				bad++;
				printf("# %s %s refused\n", p->name, p->words[valid]);
			}
			strcpy(cur, after);
		} else if (!(rc < 0 && errno == EINVAL) || strcmp(after, cur)) {
			bad++;
			printf("# %s: invalid value of %zu bytes: rc %zd errno %d, %s -> %s\n",
			       p->name, len, rc, errno, cur, after);
		}
	}
	if (pwrite(fd, orig, strlen(orig), 0) != (ssize_t)strlen(orig) || read_word(fd, after) ||
	    strcmp(after, orig)) {
		bad++;
		printf("# %s: could not set back to %s\n", p->name, orig);
	}
	close(fd);
	printf("FUZZ-PARAM %s writes=%ld valid=%ld mismatches=%ld\n",
	       p->name, writes, valid_n, bad);
	return bad;
}

int main(int argc, char **argv)
{
	static char buf[3 * PAGE], seen[PAGE + 1];
	char cur[64], after[64], start[64];
	long writes, k, bad = 0, inval = 0, busy = 0, noop = 0, trans = 0, over = 0;
	int fd, i, match;

	if (argc != 9)
		return 2;
	writes = atol(argv[3]);
	rng = strtoull(argv[4], NULL, 0) * 2654435761ULL + 1;
	first_block = atol(argv[5]);
	nr_blocks = atol(argv[6]);
	block_kb = atol(argv[7]);
	base_kb = atol(argv[8]);
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || read_word(fd, cur))
		return 2;
	strcpy(start, cur);

	for (k = 0; k < writes;) {
		size_t len;
		int expect_err = 0, expect_trans = 0, r = rnd(1000), ok;
		/* Real transitions only on the unplugged, offline, online_movable track. */
		int movable_track = !strcmp(cur, "unplugged") || !strcmp(cur, "offline") ||
				    !strcmp(cur, "online_movable");
		ssize_t rc;

		if (r < 3 && movable_track) {
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
		if (expect_trans && (r >= 3 || !movable_track))
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
			} else {
				bad += device_is(after);
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
	printf("FUZZ-COUNTS from=%s writes=%ld invalid=%ld (over-a-page %ld) ebusy=%ld noop=%ld",
	       start, inval + busy + noop + trans, inval, over, busy, noop);
	printf(" transitions=%ld mismatches=%ld\n",
	       trans, bad);
	close(fd);

	for (i = 0; i < (int)ARRAY_SIZE(params); i++)
		bad += fuzz_param(argv[2], &params[i], writes / 10);
	return bad ? 1 : 0;
}
