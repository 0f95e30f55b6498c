// SPDX-License-Identifier: MIT
/*
 * The shared ring log: on-disk layout and initialisation, line composition and filtering
 * (trim, cap, keys, control characters), wrap-around and cursors, several writer processes
 * at once, the read-only mapping, and the dump format.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "harness.h"
#include "ringlog.h"

#define MAX_SEEN 4096

static char dir[] = "/tmp/awg-test-ringlog-XXXXXX";
static int dirfd = -1;

/* Lines delivered by the last follow calls. */
static char seen_text[MAX_SEEN][AWG_RINGLOG_TEXT];
static int64_t seen_time[MAX_SEEN];
static size_t seen_n;

static void collect(void *ctx, int64_t time_ns, const char *text)
{
	(void)ctx;
	if (seen_n < MAX_SEEN) {
		snprintf(seen_text[seen_n], sizeof(seen_text[0]), "%s", text);
		seen_time[seen_n] = time_ns;
	}
	seen_n++;
}

static size_t follow(const struct awg_ringlog *r, uint32_t *cursor)
{
	seen_n = 0;
	return awg_ringlog_follow(r, cursor, collect, NULL);
}

/* Follows everything and returns the newest line ("" when none). */
static const char *last_line(const struct awg_ringlog *r)
{
	uint32_t cursor = AWG_RINGLOG_CURSOR_ALL;

	follow(r, &cursor);
	return seen_n ? seen_text[seen_n - 1] : "";
}

static uint32_t raw_next(const struct awg_ringlog *r)
{
	uint32_t v;

	memcpy(&v, r->map + 4, sizeof(v));
	return v;
}

static void setup(void)
{
	if (dirfd >= 0)
		return;
	if (!mkdtemp(dir) || (dirfd = open(dir, O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror("test dir");
		exit(1);
	}
}

/* Opens a fresh log at name (an old file of that name is removed first). */
static int open_fresh(struct awg_ringlog *r, const char *name)
{
	setup();
	unlinkat(dirfd, name, 0);
	return awg_ringlog_open(r, dirfd, name, "TST");
}

static void write_file(const char *name, uint8_t byte, size_t len)
{
	uint8_t *buf = malloc(len);
	int fd;

	setup();
	memset(buf, byte, len);
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, buf, len), len);
	close(fd);
	free(buf);
}

static off_t file_size(const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, 0) < 0)
		return -1;
	return st.st_size;
}

static void fresh_file_layout(void)
{
	static const uint8_t magic_le[4] = { 0xbe, 0xba, 0xad, 0x0b };
	struct awg_ringlog r;
	uint8_t head[8];
	struct stat st;
	int fd;

	CHECK_INT(open_fresh(&r, "fresh.bin"), 0);
	CHECK(r.writable);
	CHECK_INT(file_size("fresh.bin"), AWG_RINGLOG_SIZE);
	CHECK_INT(AWG_RINGLOG_SIZE, 1064968);
	fd = openat(dirfd, "fresh.bin", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_INT(pread(fd, head, sizeof(head), 0), sizeof(head));
	CHECK_MEM(head, magic_le, 4);
	CHECK_INT(head[4] | head[5] | head[6] | head[7], 0);
	CHECK_INT(fstat(fd, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	close(fd);

	/* Reopening keeps the lines: the magic is right, nothing is re-initialised. */
	awg_ringlog_write(&r, "kept");
	awg_ringlog_close(&r);
	CHECK(r.map == NULL);
	CHECK_INT(awg_ringlog_open(&r, dirfd, "fresh.bin", "TST"), 0);
	CHECK_INT(raw_next(&r), 1);
	CHECK(strcmp(last_line(&r), "[TST] kept") == 0);
	awg_ringlog_close(&r);
}

static bool all_zero_after_magic(const struct awg_ringlog *r)
{
	for (size_t i = 4; i < AWG_RINGLOG_SIZE; i++)
		if (r->map[i])
			return false;
	return true;
}

static void garbage_is_reinitialised(void)
{
	struct awg_ringlog r;
	uint32_t magic;

	/* Right size, wrong magic; then too long; then too short. */
	static const size_t sizes[] = { AWG_RINGLOG_SIZE, AWG_RINGLOG_SIZE + 100, 10 };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		write_file("garbage.bin", 0xaa, sizes[k]);
		CHECK_INT(awg_ringlog_open(&r, dirfd, "garbage.bin", "TST"), 0);
		CHECK_INT(file_size("garbage.bin"), AWG_RINGLOG_SIZE);
		memcpy(&magic, r.map, 4);
		CHECK_INT(magic, AWG_RINGLOG_MAGIC);
		CHECK(all_zero_after_magic(&r));
		CHECK_INT(strlen(last_line(&r)), 0);
		awg_ringlog_close(&r);
	}
}

static void refuses_symlink_and_non_file(void)
{
	struct awg_ringlog r;

	setup();
	unlinkat(dirfd, "link.bin", 0);
	CHECK_INT(symlinkat("target.bin", dirfd, "link.bin"), 0);
	CHECK_INT(awg_ringlog_open(&r, dirfd, "link.bin", "TST"), -ELOOP);
	CHECK(r.map == NULL);
	/* The symlink was not followed: no target was created. */
	CHECK_INT(file_size("target.bin"), -1);
	unlinkat(dirfd, "link.bin", 0);

	CHECK_INT(mkfifoat(dirfd, "fifo.bin", 0600), 0);
	CHECK_INT(awg_ringlog_open(&r, dirfd, "fifo.bin", "TST"), -EINVAL);
	unlinkat(dirfd, "fifo.bin", 0);
}

static void write_and_follow(void)
{
	struct awg_ringlog r;
	uint32_t cursor = AWG_RINGLOG_CURSOR_ALL;
	struct timespec ts;
	int64_t before, after;

	CHECK_INT(open_fresh(&r, "order.bin"), 0);
	awg_ringlog_set_prefix(&r, "pre");
	CHECK(strcmp(r.prefix, "[pre] ") == 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	before = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	awg_ringlog_write(&r, "msg");
	awg_ringlog_printf(&r, "second %d", 2);
	awg_ringlog_set_prefix(&r, NULL);
	awg_ringlog_write(&r, "third");
	clock_gettime(CLOCK_REALTIME, &ts);
	after = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;

	CHECK_INT(follow(&r, &cursor), 3);
	CHECK_INT(seen_n, 3);
	CHECK(strcmp(seen_text[0], "[TST] [pre] msg") == 0);
	CHECK(strcmp(seen_text[1], "[TST] [pre] second 2") == 0);
	CHECK(strcmp(seen_text[2], "[TST] third") == 0);
	CHECK(seen_time[0] >= before && seen_time[0] <= after);
	CHECK(seen_time[0] <= seen_time[1] && seen_time[1] <= seen_time[2]);
	CHECK(seen_time[2] <= after);
	CHECK_INT(cursor, 3);

	/* A long tag is cut to five characters. */
	awg_ringlog_close(&r);
	CHECK_INT(awg_ringlog_open(&r, dirfd, "order.bin", "TOOLONG"), 0);
	CHECK(strcmp(r.tag, "[TOOLO] ") == 0);
	awg_ringlog_close(&r);
}

static void trims_and_skips_empty(void)
{
	struct awg_ringlog r;

	CHECK_INT(open_fresh(&r, "trim.bin"), 0);
	awg_ringlog_write(&r, "  \t hello  world \r\n");
	CHECK(strcmp(last_line(&r), "[TST] hello  world") == 0);
	CHECK_INT(raw_next(&r), 1);
	awg_ringlog_write(&r, "");
	awg_ringlog_write(&r, " \n\t\r ");
	awg_ringlog_printf(&r, "%s", "   ");
	CHECK_INT(raw_next(&r), 1);
	awg_ringlog_set_prefix(&r, "  ");
	CHECK_INT(strlen(r.prefix), 0);
	awg_ringlog_close(&r);
}

static void caps_at_511_bytes(void)
{
	static const char euro[] = "\xe2\x82\xac";
	char msg[1024];
	const char *line;
	struct awg_ringlog r;
	size_t len;

	CHECK_INT(open_fresh(&r, "cap.bin"), 0);
	memset(msg, 'a', 1000);
	msg[1000] = '\0';
	awg_ringlog_write(&r, msg);
	line = last_line(&r);
	CHECK_INT(strlen(line), 511);
	CHECK(strncmp(line, "[TST] aaaa", 10) == 0);
	CHECK_INT(line[510], 'a');

	/* 6 + 3 * 168 = 510: a 169th euro sign would end at 513, so it is left out whole. */
	msg[0] = '\0';
	for (int i = 0; i < 200; i++)
		strcat(msg, euro);
	awg_ringlog_write(&r, msg);
	line = last_line(&r);
	len = strlen(line);
	CHECK_INT(len, 510);
	CHECK(len >= 3 && memcmp(line + len - 3, euro, 3) == 0);

	/* One ASCII byte more and the last euro sign ends exactly at 511. */
	memmove(msg + 1, msg, strlen(msg) + 1);
	msg[0] = 'a';
	awg_ringlog_write(&r, msg);
	line = last_line(&r);
	len = strlen(line);
	CHECK_INT(len, 511);
	CHECK(len >= 3 && memcmp(line + len - 3, euro, 3) == 0);
	awg_ringlog_close(&r);
}

static void new_key(char b64[AWG_CRYPTO_KEY_B64_LEN + 1])
{
	uint8_t key[AWG_CRYPTO_KEY_LEN];

	awg_random_bytes(key, sizeof(key));
	awg_key_to_base64(b64, key);
	awg_wipe(key, sizeof(key));
}

static void hides_keys(void)
{
	char k1[AWG_CRYPTO_KEY_B64_LEN + 1], k2[AWG_CRYPTO_KEY_B64_LEN + 1];
	char msg[1024], want[1100], head[11];
	struct awg_ringlog r;
	const char *line;

	CHECK_INT(open_fresh(&r, "keys.bin"), 0);
	new_key(k1);
	new_key(k2);
	CHECK_INT(strlen(k1), 44);
	CHECK_INT(k1[43], '=');
	snprintf(head, sizeof(head), "%.10s", k1);

	snprintf(msg, sizeof(msg), "peer %s connected", k1);
	awg_ringlog_write(&r, msg);
	line = last_line(&r);
	CHECK(strcmp(line, "[TST] peer (key hidden) connected") == 0);
	CHECK(strstr(line, head) == NULL);

	awg_ringlog_printf(&r, "%s PublicKey=%s,%s", k1, k2, k1);
	CHECK(strcmp(last_line(&r), "[TST] (key hidden) PublicKey=(key hidden),(key hidden)") == 0);

	/* 44 base64 characters without the '=' are no key. */
	snprintf(msg, sizeof(msg), "id %.43sQ end", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq");
	awg_ringlog_write(&r, msg);
	snprintf(want, sizeof(want), "[TST] %s", msg);
	CHECK(strcmp(last_line(&r), want) == 0);
	/* Nor is a key-shaped run inside a longer base64 run. */
	snprintf(msg, sizeof(msg), "x%s", k1);
	awg_ringlog_write(&r, msg);
	snprintf(want, sizeof(want), "[TST] %s", msg);
	CHECK(strcmp(last_line(&r), want) == 0);

	/* The key is replaced before the cap: it cannot survive as a cut-off prefix. */
	memset(msg, 'x', 470);
	snprintf(msg + 470, sizeof(msg) - 470, " %s end", k1);
	awg_ringlog_write(&r, msg);
	line = last_line(&r);
	CHECK_INT(strlen(line), 6 + 471 + 12 + 4);
	CHECK(strcmp(line + 6 + 471, "(key hidden) end") == 0);
	memset(msg, 'x', 495);
	snprintf(msg + 495, sizeof(msg) - 495, " %s", k1);
	awg_ringlog_write(&r, msg);
	line = last_line(&r);
	CHECK_INT(strlen(line), 6 + 496);
	CHECK(strstr(line, head) == NULL);
	CHECK(strchr(line, '(') == NULL);

	/* The prefix is filtered too. */
	awg_ringlog_set_prefix(&r, k1);
	CHECK(strcmp(r.prefix, "[(key hidden)] ") == 0);
	awg_wipe(k1, sizeof(k1));
	awg_wipe(k2, sizeof(k2));
	awg_wipe(msg, sizeof(msg));
	awg_ringlog_close(&r);
}

static void replaces_control_chars(void)
{
	struct awg_ringlog r;

	CHECK_INT(open_fresh(&r, "ctl.bin"), 0);
	awg_ringlog_write(&r, "a\tb\x01" "c\x1b[31mred\x7f");
	CHECK(strcmp(last_line(&r), "[TST] a?b?c?[31mred?") == 0);
	awg_ringlog_write(&r, "one\ntwo\r\nthree");
	CHECK(strcmp(last_line(&r), "[TST] one?two??three") == 0);
	awg_ringlog_set_prefix(&r, "na\nme");
	CHECK(strcmp(r.prefix, "[na?me] ") == 0);
	/* UTF-8 text passes unchanged. */
	awg_ringlog_set_prefix(&r, NULL);
	awg_ringlog_write(&r, "gr\xc3\xbc\xc3\x9f");
	CHECK(strcmp(last_line(&r), "[TST] gr\xc3\xbc\xc3\x9f") == 0);
	awg_ringlog_close(&r);
}

static void wraps_around(void)
{
	struct awg_ringlog r;
	uint32_t cursor = AWG_RINGLOG_CURSOR_ALL;
	char want[32];
	size_t bad = 0;

	CHECK_INT(open_fresh(&r, "wrap.bin"), 0);
	for (int i = 0; i < 5000; i++)
		awg_ringlog_printf(&r, "line %d", i);
	CHECK_INT(raw_next(&r), 5000);
	CHECK_INT(follow(&r, &cursor), AWG_RINGLOG_LINES);
	CHECK_INT(seen_n, AWG_RINGLOG_LINES);
	for (size_t k = 0; k < seen_n && k < MAX_SEEN; k++) {
		snprintf(want, sizeof(want), "[TST] line %zu", 5000 - AWG_RINGLOG_LINES + k);
		bad += strcmp(seen_text[k], want) != 0;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(cursor, 5000);
	awg_ringlog_close(&r);
}

static void cursor_sees_only_new_lines(void)
{
	struct awg_ringlog r;
	uint32_t cursor = AWG_RINGLOG_CURSOR_ALL;

	CHECK_INT(open_fresh(&r, "cursor.bin"), 0);
	CHECK_INT(follow(&r, &cursor), 0);
	CHECK_INT(cursor, 0);
	awg_ringlog_write(&r, "a");
	awg_ringlog_write(&r, "b");
	awg_ringlog_write(&r, "c");
	CHECK_INT(follow(&r, &cursor), 3);
	CHECK_INT(follow(&r, &cursor), 0);
	awg_ringlog_write(&r, "d");
	awg_ringlog_write(&r, "e");
	CHECK_INT(follow(&r, &cursor), 2);
	CHECK(strcmp(seen_text[0], "[TST] d") == 0);
	CHECK(strcmp(seen_text[1], "[TST] e") == 0);
	CHECK_INT(cursor, 5);

	/* A reader lapped by the writer restarts at the oldest line instead of reading garbage. */
	for (int i = 0; i < 3000; i++)
		awg_ringlog_printf(&r, "n %d", i);
	CHECK_INT(follow(&r, &cursor), AWG_RINGLOG_LINES);
	CHECK(strcmp(seen_text[0], "[TST] n 952") == 0);
	CHECK(strcmp(seen_text[AWG_RINGLOG_LINES - 1], "[TST] n 2999") == 0);
	CHECK_INT(cursor, 3005);

	/* A cursor from the future (the log was re-initialised) also restarts. */
	cursor = 100000;
	CHECK_INT(follow(&r, &cursor), AWG_RINGLOG_LINES);
	CHECK_INT(cursor, 3005);
	awg_ringlog_close(&r);
}

#define WRITERS 4
#define PER_WRITER 3000
#define PAD 200

struct check_state {
	long last[WRITERS];
	size_t lines, bad, stale;
};

/*
 * Every line must be exactly what one writer wrote. A line of a writer older than the last
 * one seen is the documented stale read (see awg_ringlog_follow), counted, not failed.
 */
static void check_line(void *ctx, int64_t time_ns, const char *text)
{
	struct check_state *s = ctx;
	char want[AWG_RINGLOG_TEXT];
	int w, n, len;

	s->lines++;
	if (time_ns <= 0 || sscanf(text, "[TST] w%d n%d ", &w, &n) != 2 || w < 0 ||
	    w >= WRITERS || n < 0 || n >= PER_WRITER) {
		fprintf(stderr, "    malformed: %s\n", text);
		s->bad++;
		return;
	}
	len = snprintf(want, sizeof(want), "[TST] w%d n%d ", w, n);
	memset(want + len, 'a' + w, PAD);
	want[len + PAD] = '\0';
	if (strcmp(text, want) != 0) {
		fprintf(stderr, "    malformed: %s\n", text);
		s->bad++;
	}
	else if (n <= s->last[w])
		s->stale++;
	else
		s->last[w] = n;
}

static void writer_child(int w, int go)
{
	char pad[PAD + 1], c;
	struct awg_ringlog r;

	memset(pad, 'a' + w, PAD);
	pad[PAD] = '\0';
	if (awg_ringlog_open(&r, dirfd, "conc.bin", "TST") < 0)
		_exit(2);
	/* Start together: the parent closes the pipe. */
	if (read(go, &c, 1) < 0)
		_exit(3);
	for (int n = 0; n < PER_WRITER; n++)
		awg_ringlog_printf(&r, "w%d n%d %s", w, n, pad);
	awg_ringlog_close(&r);
	_exit(0);
}

static void concurrent_writers(void)
{
	struct check_state s = { .last = { -1, -1, -1, -1 } };
	struct awg_ringlog r;
	uint32_t cursor = AWG_RINGLOG_CURSOR_ALL;
	pid_t pids[WRITERS];
	int go[2], status, exited = 0, failed = 0;

	CHECK_INT(open_fresh(&r, "conc.bin"), 0);
	CHECK_INT(pipe(go), 0);
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			close(go[1]);
			writer_child(w, go[0]);
		}
		if (!CHECK(pids[w] > 0))
			exited++;
	}
	close(go[0]);
	close(go[1]);
	while (exited < WRITERS) {
		awg_ringlog_follow(&r, &cursor, check_line, &s);
		for (int w = 0; w < WRITERS; w++) {
			if (pids[w] > 0 && waitpid(pids[w], &status, WNOHANG) == pids[w]) {
				failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
				pids[w] = -1;
				exited++;
			}
		}
	}
	awg_ringlog_follow(&r, &cursor, check_line, &s);
	CHECK_INT(failed, 0);
	CHECK_INT(raw_next(&r), WRITERS * PER_WRITER);
	CHECK_INT(cursor, WRITERS * PER_WRITER);
	CHECK(s.lines >= AWG_RINGLOG_LINES);
	CHECK_INT(s.bad, 0);
	printf("  concurrent: the follower read %zu of %d lines, %zu stale\n", s.lines,
	       WRITERS * PER_WRITER, s.stale);

	/* Once the writers are done the whole ring is readable, every line whole. */
	memset(&s, 0, sizeof(s));
	for (int w = 0; w < WRITERS; w++)
		s.last[w] = -1;
	cursor = AWG_RINGLOG_CURSOR_ALL;
	CHECK_INT(awg_ringlog_follow(&r, &cursor, check_line, &s), AWG_RINGLOG_LINES);
	CHECK_INT(s.bad, 0);
	CHECK(s.last[0] == PER_WRITER - 1 || s.last[1] == PER_WRITER - 1 ||
	      s.last[2] == PER_WRITER - 1 || s.last[3] == PER_WRITER - 1);
	awg_ringlog_close(&r);
}

/* The permissions column of the /proc/self/maps line for the mapping at addr. */
static bool map_perms(const void *addr, char perms[5])
{
	char line[512];
	uintptr_t start, end;
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s", &start, &end, perms) == 3 &&
			start == (uintptr_t)addr;
	fclose(f);
	return found;
}

static void read_only_fd(void)
{
	struct awg_ringlog w, ro;
	uint32_t cursor = AWG_RINGLOG_CURSOR_ALL;
	char perms[5] = "";
	int fd;

	CHECK_INT(open_fresh(&w, "ro.bin"), 0);
	awg_ringlog_write(&w, "from the writer");
	fd = openat(dirfd, "ro.bin", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	/* A read-only descriptor cannot become a writable log. */
	CHECK(awg_ringlog_open_fd(&ro, fd, true, "DMP") < 0);
	CHECK_INT(awg_ringlog_open_fd(&ro, fd, false, "DMP"), 0);
	close(fd);
	CHECK(!ro.writable);
	CHECK(map_perms(ro.map, perms));
	CHECK(strchr(perms, 'w') == NULL);
	CHECK_INT(perms[0], 'r');
	CHECK_INT(perms[3], 's');

	CHECK_INT(follow(&ro, &cursor), 1);
	CHECK(strcmp(seen_text[0], "[TST] from the writer") == 0);
	awg_ringlog_write(&ro, "forged");
	awg_ringlog_printf(&ro, "forged %d", 2);
	CHECK_INT(raw_next(&ro), 1);
	CHECK_INT(follow(&ro, &cursor), 0);
	/* The reader sees what the writer adds later through the same shared file. */
	awg_ringlog_write(&w, "later");
	CHECK_INT(follow(&ro, &cursor), 1);
	CHECK(strcmp(seen_text[0], "[TST] later") == 0);
	awg_ringlog_close(&ro);
	awg_ringlog_close(&w);
}

static void read_only_refuses_bad_files(void)
{
	struct awg_ringlog ro;
	int fd;

	write_file("short.bin", 0, 100);
	fd = openat(dirfd, "short.bin", O_RDONLY | O_CLOEXEC);
	CHECK_INT(awg_ringlog_open_fd(&ro, fd, false, "DMP"), -EINVAL);
	CHECK(ro.map == NULL);
	close(fd);
	CHECK_INT(file_size("short.bin"), 100);

	/* The right size but no magic: a reader must not initialise (nor trust) it. */
	write_file("nomagic.bin", 0, AWG_RINGLOG_SIZE);
	fd = openat(dirfd, "nomagic.bin", O_RDONLY | O_CLOEXEC);
	CHECK_INT(awg_ringlog_open_fd(&ro, fd, false, "DMP"), -EINVAL);
	CHECK(ro.map == NULL);
	close(fd);
}

static void mirrors_to_stderr(void)
{
	struct awg_ringlog r;
	char buf[128] = "";
	int p[2], saved;
	ssize_t n;

	CHECK_INT(open_fresh(&r, "mirror.bin"), 0);
	CHECK_INT(pipe(p), 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	awg_ringlog_write(&r, "quiet");
	r.mirror = true;
	awg_ringlog_write(&r, " loud\tline ");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	CHECK_INT(n, strlen("[TST] loud?line\n"));
	CHECK(strcmp(buf, "[TST] loud?line\n") == 0);
	awg_ringlog_close(&r);
}

static void formats_like_the_dump(void)
{
	char buf[128];

	setenv("TZ", "UTC", 1);
	tzset();
	CHECK_INT(awg_ringlog_format(buf, sizeof(buf), 1700000000123456789ll, "[TST] x"),
		  strlen("2023-11-14 22:13:20.123456: [TST] x"));
	CHECK(strcmp(buf, "2023-11-14 22:13:20.123456: [TST] x") == 0);
	CHECK_INT(awg_ringlog_format(buf, sizeof(buf), 1000, "[TST] y"),
		  strlen("1970-01-01 00:00:00.000001: [TST] y"));
	CHECK(strcmp(buf, "1970-01-01 00:00:00.000001: [TST] y") == 0);
	/* Truncated to size - 1 bytes and still NUL-terminated. */
	CHECK_INT(awg_ringlog_format(buf, 11, 1700000000123456789ll, "[TST] x"), 10);
	CHECK(strcmp(buf, "2023-11-14") == 0);
	CHECK_INT(awg_ringlog_format(buf, 0, 1700000000123456789ll, "[TST] x"), 0);
}

static void cleanup(void)
{
	static const char *const names[] = {
		"fresh.bin", "garbage.bin", "order.bin", "trim.bin", "cap.bin", "keys.bin",
		"ctl.bin", "wrap.bin", "cursor.bin", "conc.bin", "ro.bin", "short.bin",
		"nomagic.bin", "mirror.bin", "locked.bin", "locked2.bin",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlinkat(dirfd, names[i], 0);
	close(dirfd);
	CHECK_INT(rmdir(dir), 0);
}

/* A reader's flock on its read-only descriptor must not stop writers from opening the log. */
static void reader_lock_does_not_block(void)
{
	struct awg_ringlog r, w;
	struct timespec a, b;
	int fd;

	CHECK_INT(open_fresh(&r, "locked.bin"), 0);
	awg_ringlog_close(&r);
	fd = openat(dirfd, "locked.bin", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_INT(flock(fd, LOCK_EX), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_INT(awg_ringlog_open(&w, dirfd, "locked.bin", "TST"), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	/* An initialised log is mapped without the lock: at once. */
	CHECK(b.tv_sec - a.tv_sec < 1);
	awg_ringlog_write(&w, "written while a reader holds the lock");
	CHECK(strstr(last_line(&w), "while a reader holds") != NULL);
	awg_ringlog_close(&w);
	/* A log that needs initialising waits about a second for the lock, then goes on. */
	write_file("locked2.bin", 0x55, 64);
	close(fd);
	fd = openat(dirfd, "locked2.bin", O_RDONLY | O_CLOEXEC);
	CHECK_INT(flock(fd, LOCK_EX), 0);
	CHECK_INT(awg_ringlog_open(&w, dirfd, "locked2.bin", "TST"), 0);
	CHECK_INT(file_size("locked2.bin"), AWG_RINGLOG_SIZE);
	awg_ringlog_close(&w);
	close(fd);
}

TEST_MAIN("ringlog",
	  T(fresh_file_layout),
	  T(garbage_is_reinitialised),
	  T(refuses_symlink_and_non_file),
	  T(write_and_follow),
	  T(trims_and_skips_empty),
	  T(caps_at_511_bytes),
	  T(hides_keys),
	  T(replaces_control_chars),
	  T(wraps_around),
	  T(cursor_sees_only_new_lines),
	  T(concurrent_writers),
	  T(read_only_fd),
	  T(read_only_refuses_bad_files),
	  T(mirrors_to_stderr),
	  T(formats_like_the_dump),
	  T(reader_lock_does_not_block),
	  T(cleanup))
