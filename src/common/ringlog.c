// SPDX-License-Identifier: MIT
/* Owns the shared ring log (log.bin): mapping, the lock-free multi-process writer, the reader. */
#include "ringlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"

/*
 * The file is little-endian by definition and the fields are accessed in place with native
 * atomics, so a big-endian host would need byte swapping that nothing here does.
 */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ring log layout is little-endian; this host is not"
#endif

_Static_assert(AWG_RINGLOG_SLOT % 8 == 0, "slots keep time_ns 8-byte aligned");
_Static_assert(AWG_RINGLOG_SIZE == 1064968u, "the layout of windows-reference.md 2.10");
/* Index arithmetic wraps at 2^32; slot = index % LINES stays continuous only if LINES | 2^32. */
_Static_assert((AWG_RINGLOG_LINES & (AWG_RINGLOG_LINES - 1)) == 0, "LINES is a power of two");

#define OFF_MAGIC	0u
#define OFF_NEXT	4u
#define OFF_SLOTS	8u
#define TEXT_MAX	(AWG_RINGLOG_TEXT - 1)	/* bytes of text before the NUL */
#define TAG_MAX		5u
#define NS_PER_SEC	1000000000ll
/* printf formats into this much; see awg_ringlog_printf for why it is enough. */
#define PRINTF_MAX	2048u
/*
 * A claimed but unpublished slot this many lines behind next_index belongs to a writer that
 * died or stalled between claiming and publishing; a cursor passes it instead of waiting until
 * the ring laps it.
 */
#define STALE_GAP	(AWG_RINGLOG_LINES / 8)
/*
 * A claim token this many laps old belongs to a writer that died before publishing; a live
 * writer stalled that long (stopped, say) may still copy into the slot after it is taken over.
 */
#define DEAD_LAPS	16u

static const char key_hidden[] = "(key hidden)";

enum slot_state { SLOT_OK, SLOT_EMPTY, SLOT_TORN };

static uint32_t *next_index(const struct awg_ringlog *r)
{
	return (uint32_t *)(r->map + OFF_NEXT);
}

static uint8_t *slot_at(const struct awg_ringlog *r, uint32_t index)
{
	return r->map + OFF_SLOTS + (size_t)(index % AWG_RINGLOG_LINES) * AWG_RINGLOG_SLOT;
}

static uint32_t load_next(const struct awg_ringlog *r)
{
	return __atomic_load_n(next_index(r), __ATOMIC_ACQUIRE);
}

static bool is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

static bool is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* in[i] starts 43 base64 characters and '=' with no base64 character on either side. */
static bool key_at(const char *in, size_t len, size_t i, unsigned char prev)
{
	if (is_b64(prev) || len - i < AWG_CRYPTO_KEY_B64_LEN)
		return false;
	for (size_t k = 0; k < AWG_CRYPTO_KEY_B64_LEN - 1; k++)
		if (!is_b64((unsigned char)in[i + k]))
			return false;
	if (in[i + AWG_CRYPTO_KEY_B64_LEN - 1] != '=')
		return false;
	return i + AWG_CRYPTO_KEY_B64_LEN == len ||
	       !is_b64((unsigned char)in[i + AWG_CRYPTO_KEY_B64_LEN]);
}

/* Bytes of the UTF-8 sequence a lead byte starts (1 for ASCII and stray bytes). */
static size_t utf8_len(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/*
 * Appends in[0..len) to out[pos..cap) and returns the new end: key-shaped runs become
 * "(key hidden)" and control characters '?' (a line stays one line). Keys are replaced while
 * reading the input, so the cap can never cut a key into a visible prefix. Stops before a
 * UTF-8 sequence or a replacement that would not fit whole. prev is the byte before in.
 */
static size_t filter(char *out, size_t pos, size_t cap, const char *in, size_t len,
		     unsigned char prev)
{
	size_t i = 0;

	while (i < len && pos < cap) {
		unsigned char c = (unsigned char)in[i];

		if (key_at(in, len, i, prev)) {
			if (cap - pos < sizeof(key_hidden) - 1)
				break;
			memcpy(out + pos, key_hidden, sizeof(key_hidden) - 1);
			pos += sizeof(key_hidden) - 1;
			i += AWG_CRYPTO_KEY_B64_LEN;
			prev = '=';
			continue;
		}
		if (cap - pos < utf8_len(c))
			break;
		out[pos++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		prev = c;
		i++;
	}
	return pos;
}

static void trim(const char **s, size_t *len)
{
	while (*len && is_space((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_space((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

static void set_tag(struct awg_ringlog *r, const char *tag)
{
	size_t len = tag ? strnlen(tag, TAG_MAX) : 0;
	size_t pos = 0;

	r->tag[0] = '\0';
	if (!len)
		return;
	r->tag[pos++] = '[';
	pos = filter(r->tag, pos, 1 + len, tag, len, '[');
	memcpy(r->tag + pos, "] ", 3);
}

void awg_ringlog_set_prefix(struct awg_ringlog *r, const char *prefix)
{
	size_t len = prefix ? strlen(prefix) : 0;
	size_t pos = 0;

	r->prefix[0] = '\0';
	trim(&prefix, &len);
	if (!len)
		return;
	/* "[" + name + "] " + NUL; a name too long for the field is cut. */
	r->prefix[pos++] = '[';
	pos = filter(r->prefix, pos, sizeof(r->prefix) - 3, prefix, len, '[');
	memcpy(r->prefix + pos, "] ", 3);
}

/* Zeroes the whole region, then writes the magic: an initialised log has no lines. */
static void initialise(uint8_t *map)
{
	memset(map, 0, AWG_RINGLOG_SIZE);
	__atomic_store_n((uint32_t *)(map + OFF_MAGIC), AWG_RINGLOG_MAGIC, __ATOMIC_RELEASE);
}

static bool magic_ok(const uint8_t *map)
{
	return __atomic_load_n((const uint32_t *)(map + OFF_MAGIC), __ATOMIC_ACQUIRE) ==
	       AWG_RINGLOG_MAGIC;
}

/*
 * Waits up to a second for the init lock. Anyone who can open the file (a client holding the
 * read-only LogFd descriptor too) can flock it, so a writer must never wait for it forever:
 * without the lock it initialises unserialised, which at worst loses a few lines.
 */
static bool lock_briefly(int fd)
{
	for (int i = 0; i < 100; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return false;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	return false;
}

/*
 * Sizes and maps fd read-write. A log that already has its size and magic is mapped without
 * any lock (the common case: the manager made it). Otherwise the flock serialises the check
 * and the initialisation between processes opening the log at once, so one cannot zero lines
 * another just wrote.
 */
static int map_writable(int fd, uint8_t **out)
{
	struct stat st;
	void *map;
	bool locked = false;
	int ret = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size == (off_t)AWG_RINGLOG_SIZE) {
		map = mmap(NULL, AWG_RINGLOG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			return -errno;
		if (magic_ok(map)) {
			*out = map;
			return 0;
		}
		munmap(map, AWG_RINGLOG_SIZE);
	}
	locked = lock_briefly(fd);
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (st.st_size != (off_t)AWG_RINGLOG_SIZE && ftruncate(fd, AWG_RINGLOG_SIZE) < 0) {
		ret = -errno;
		goto out;
	}
	map = mmap(NULL, AWG_RINGLOG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	if (!magic_ok(map))
		initialise(map);
	*out = map;
out:
	if (locked)
		flock(fd, LOCK_UN);
	return ret;
}

/* Maps fd PROT_READ: the holder of a read-only descriptor can read the log, never forge it. */
static int map_readonly(int fd, uint8_t **out)
{
	struct stat st;
	void *map;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size != (off_t)AWG_RINGLOG_SIZE)
		return -EINVAL;
	map = mmap(NULL, AWG_RINGLOG_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	if (!magic_ok(map)) {
		munmap(map, AWG_RINGLOG_SIZE);
		return -EINVAL;
	}
	*out = map;
	return 0;
}

int awg_ringlog_open_fd(struct awg_ringlog *r, int fd, bool writable, const char *tag)
{
	uint8_t *map = NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = writable ? map_writable(fd, &map) : map_readonly(fd, &map);
	if (ret < 0)
		return ret;
	r->map = map;
	r->writable = writable;
	set_tag(r, tag);
	return 0;
}

int awg_ringlog_open(struct awg_ringlog *r, int dirfd, const char *path, const char *tag)
{
	int fd, ret;

	memset(r, 0, sizeof(*r));
	fd = openat(dirfd, path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = awg_ringlog_open_fd(r, fd, true, tag);
	close(fd);
	return ret;
}

void awg_ringlog_close(struct awg_ringlog *r)
{
	if (r->map)
		munmap(r->map, AWG_RINGLOG_SIZE);
	memset(r, 0, sizeof(*r));
}

static int64_t now_ns(void)
{
	struct timespec ts;
	int64_t t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
	/* 0 means "empty"; a clock at the epoch still publishes. */
	return t > 0 ? t : 1;
}

/*
 * Unpublishes the slot the next claim will most likely get, before claiming it. A reader that
 * sees next_index past an index reads its slot at once; between a writer's fetch-add and its
 * claim token the slot still shows the line of the previous lap, which such a reader would
 * deliver as new. Unpublishing first closes that window whenever no other writer claims in
 * between (when one does, the reader may show that old line once more: the Windows design's
 * "old data after new data"). The compare-exchange only clears the old line it saw (the
 * oldest in the ring, about to be overwritten anyway); a slot already re-published keeps its
 * new line.
 */
static void unpublish_next(struct awg_ringlog *r)
{
	uint32_t next = __atomic_load_n(next_index(r), __ATOMIC_RELAXED);
	int64_t *tp = (int64_t *)slot_at(r, next);
	int64_t old = __atomic_load_n(tp, __ATOMIC_ACQUIRE);

	/*
	 * next_index unchanged after the acquire load means old is not the time of a line
	 * published for index next (its writer claimed first); without this check a writer
	 * delayed here could clear a line someone just published.
	 */
	if (old <= 0 || __atomic_load_n(next_index(r), __ATOMIC_RELAXED) != next)
		return;
	__atomic_compare_exchange_n(tp, &old, 0, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* A writer has claimed index + LINES: the slot of index now belongs to that newer line. */
static bool lapped(const struct awg_ringlog *r, uint32_t index)
{
	return __atomic_load_n(next_index(r), __ATOMIC_ACQUIRE) - index > AWG_RINGLOG_LINES;
}

/* The time_ns of a slot while the writer of index fills it: negative, unique per index. */
static int64_t claim_token(uint32_t index)
{
	return -(int64_t)index - 1;
}

/*
 * Takes the slot of index by swapping its time_ns to the claim token, which unpublishes it and
 * makes it this writer's alone. False when the ring lapped index already (the slot belongs to
 * a newer line) or a writer of an older index still fills it: that writer stalled while LINES
 * lines were written, and letting two writers copy into one slot would mix their texts. A
 * token DEAD_LAPS laps old is taken over: its writer died between claiming and publishing.
 */
static bool take_slot(const struct awg_ringlog *r, uint32_t index, int64_t *tp)
{
	int64_t t = __atomic_load_n(tp, __ATOMIC_RELAXED);

	do {
		if (lapped(r, index))
			return false;
		if (t < 0 && index - (uint32_t)(-(t + 1)) < DEAD_LAPS * AWG_RINGLOG_LINES)
			return false;
	} while (!__atomic_compare_exchange_n(tp, &t, claim_token(index), false, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

/*
 * Claims an index and publishes text[0..len] (with its NUL) in its slot. The claim token is
 * stored first; the release fence orders it before every text store, so a reader that saw any
 * new byte also sees time_ns change when it re-checks (the seqlock rule). The text bytes are
 * relaxed atomics because readers in other processes load them concurrently; bytes after the
 * NUL are left as they are, readers stop at the NUL. The leading byte goes last for readers
 * that test only it; the release exchange of time_ns publishes. A line whose slot cannot be
 * taken is dropped, like a line the ring overwrites.
 */
static void publish(struct awg_ringlog *r, int64_t time_ns, const char *text, size_t len)
{
	uint32_t index;
	uint8_t *slot;
	int64_t *tp, token;
	char *dst;

	unpublish_next(r);
	index = __atomic_fetch_add(next_index(r), 1, __ATOMIC_SEQ_CST);
	slot = slot_at(r, index);
	tp = (int64_t *)slot;
	dst = (char *)slot + 8;
	if (!take_slot(r, index, tp))
		return;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&dst[0], '\0', __ATOMIC_RELAXED);
	for (size_t i = 1; i <= len; i++)
		__atomic_store_n(&dst[i], i < len ? text[i] : '\0', __ATOMIC_RELAXED);
	__atomic_store_n(&dst[0], text[0], __ATOMIC_RELEASE);
	/* Fails only if this writer stalled DEAD_LAPS laps and was taken for dead. */
	token = claim_token(index);
	__atomic_compare_exchange_n(tp, &token, time_ns, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

static void append(struct awg_ringlog *r, int64_t time_ns, const char *msg, size_t len)
{
	char line[AWG_RINGLOG_TEXT + 1];	/* + the '\n' of the stderr mirror */
	size_t tag_len = strlen(r->tag), prefix_len = strlen(r->prefix), pos;
	ssize_t ignored;

	trim(&msg, &len);
	if (!len)
		return;
	memcpy(line, r->tag, tag_len);
	memcpy(line + tag_len, r->prefix, prefix_len);
	pos = tag_len + prefix_len;
	pos = filter(line, pos, TEXT_MAX, msg, len, pos ? (unsigned char)line[pos - 1] : ' ');
	line[pos] = '\0';
	publish(r, time_ns, line, pos);
	if (r->mirror) {
		line[pos] = '\n';
		/* One write(2), so lines of several processes do not interleave on stderr. */
		ignored = write(STDERR_FILENO, line, pos + 1);
		(void)ignored;
	}
}

void awg_ringlog_write(struct awg_ringlog *r, const char *msg)
{
	int64_t t;

	if (!r->map || !r->writable || !msg)
		return;
	t = now_ns();
	append(r, t, msg, strlen(msg));
}

/*
 * PRINTF_MAX bytes always hold more input than fits one line: a replaced key shrinks 45 input
 * bytes (key and a separator) to 12 at worst, and 2047 * 12 / 45 > 511, so the cut of a long
 * message never lands in text that would have been shown. The buffer may hold a raw key, so it
 * is wiped.
 */
void awg_ringlog_printf(struct awg_ringlog *r, const char *fmt, ...)
{
	char buf[PRINTF_MAX];
	va_list ap;
	int64_t t;
	int n;

	if (!r->map || !r->writable)
		return;
	t = now_ns();
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		append(r, t, buf, strnlen(buf, sizeof(buf)));
	awg_wipe(buf, sizeof(buf));
}

/*
 * Copies slot index into text (NUL-terminated) and checks it is still the same publication
 * afterwards: a writer that changed the slot during the copy changed time_ns as well.
 */
static enum slot_state read_slot(const struct awg_ringlog *r, uint32_t index,
				 char text[AWG_RINGLOG_TEXT], int64_t *time_ns)
{
	const uint8_t *slot = slot_at(r, index);
	const int64_t *tp = (const int64_t *)slot;
	const char *src = (const char *)slot + 8;
	int64_t t = __atomic_load_n(tp, __ATOMIC_ACQUIRE);
	size_t n;

	if (t <= 0)
		return SLOT_EMPTY;
	for (n = 0; n < TEXT_MAX; n++) {
		text[n] = __atomic_load_n(&src[n], __ATOMIC_RELAXED);
		if (!text[n])
			break;
	}
	text[n] = '\0';
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(tp, __ATOMIC_RELAXED) != t)
		return SLOT_TORN;
	if (!text[0])
		return SLOT_EMPTY;
	*time_ns = t;
	return SLOT_OK;
}

/*
 * The cursor is the index (not the slot) of the next line to deliver, so next_index - cursor
 * says how far behind the reader is. A reader more than LINES behind has lost lines: it
 * restarts at the oldest line present, skipping empty slots until it delivers one (the
 * never-written part of a fresh log). After that an empty slot ends the call, the cursor
 * staying on it for the writer to finish, unless it is STALE_GAP behind next_index. The text
 * is copied out and re-checked before fn sees it, so fn gets whole lines only; a line of a
 * writer that stalled for a lap can still arrive after newer ones.
 */
size_t awg_ringlog_follow(const struct awg_ringlog *r, uint32_t *cursor,
			  void (*fn)(void *ctx, int64_t time_ns, const char *text), void *ctx)
{
	char text[AWG_RINGLOG_TEXT];
	unsigned budget = 2 * AWG_RINGLOG_LINES;	/* bounds restarts while writers race */
	uint32_t next, i = *cursor, now;
	bool skip_empty = false;
	size_t n = 0;
	int64_t t = 0;

	if (!r->map)
		return 0;
	next = load_next(r);
	if (i == AWG_RINGLOG_CURSOR_ALL || next - i > AWG_RINGLOG_LINES) {
		i = next - AWG_RINGLOG_LINES;
		skip_empty = true;
	}
	while (i != next && budget--) {
		enum slot_state st = read_slot(r, i, text, &t);

		/* A writer that claimed index i + LINES may have overwritten what was just read. */
		now = load_next(r);
		if (now - i > AWG_RINGLOG_LINES) {
			next = now;
			i = now - AWG_RINGLOG_LINES;
			skip_empty = true;
			continue;
		}
		if (st == SLOT_EMPTY && !skip_empty && now - i <= STALE_GAP)
			break;
		if (st == SLOT_OK) {
			fn(ctx, t, text);
			n++;
			skip_empty = false;
		}
		i++;
	}
	*cursor = i;
	return n;
}

size_t awg_ringlog_format(char *buf, size_t size, int64_t time_ns, const char *text)
{
	char stamp[32];
	time_t sec = (time_t)(time_ns / NS_PER_SEC);
	long rem = (long)(time_ns % NS_PER_SEC);
	struct tm tm;
	int n;

	if (!size)
		return 0;
	if (rem < 0) {
		rem += NS_PER_SEC;
		sec--;
	}
	if (!localtime_r(&sec, &tm) || !strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(stamp, sizeof(stamp), "0000-00-00 00:00:00");
	n = snprintf(buf, size, "%s.%06ld: %s", stamp, rem / 1000, text ? text : "");
	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n < size ? (size_t)n : size - 1;
}
