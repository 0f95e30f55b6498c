// SPDX-License-Identifier: MIT
/* The signed update list: signify envelope and key checks, b2sum list parsing, version picking. */
#include "updlist.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <sodium.h>

#include "crypto.h"

#define COMMENT_HDR "untrusted comment: "
#define COMMENT_MAX 1024	/* signify's COMMENTMAXLEN: longer first lines are not signify's */
#define PUBKEY_BYTES 42		/* "Ed" + keynum(8) + Ed25519 key(32) */
#define PUBKEY_B64 56
#define SIG_BYTES 74		/* "Ed" + keynum(8) + Ed25519 signature(64) */
#define SIG_B64 100
#define HASH_HEX 64
#define VERSION_PARTS 8
#define PICK_PREFIX "awg-suite-"

/* Sentences that quote values; one per thread so concurrent callers do not clobber each other. */
static __thread char why_buf[2 * AWG_UPD_VERSION_MAX + 128];

static int fail(const char **why, int err, const char *msg)
{
	if (why)
		*why = msg;
	return err;
}

__attribute__((format(printf, 3, 4)))
static int failf(const char **why, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	return fail(why, err, why_buf);
}

/* The next line of [*p, end): its start and length without '\n'; *p moves past the '\n'. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len,
		      bool *had_nl)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*line = *p;
	*len = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	*had_nl = nl != NULL;
	*p = nl ? nl + 1 : end;
	return true;
}

/* Strict base64: the exact text length, no whitespace, canonical padding, exact byte count. */
static bool b64_exact(uint8_t *out, size_t outlen, const char *text, size_t len, size_t b64len)
{
	const char *b64_end = NULL;
	size_t got = 0;

	if (len != b64len)
		return false;
	if (sodium_base642bin(out, outlen, text, len, NULL, &got, &b64_end,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return got == outlen && b64_end == text + len;
}

static bool is_comment(const char *line, size_t len)
{
	return len >= strlen(COMMENT_HDR) && len <= COMMENT_MAX &&
	       memcmp(line, COMMENT_HDR, strlen(COMMENT_HDR)) == 0;
}

int awg_upd_pubkey_parse(struct awg_upd_pubkey *pk, const char *text, size_t len,
			 const char **why)
{
	const char *p = text, *end = text + len, *line = NULL;
	uint8_t raw[PUBKEY_BYTES];
	size_t llen = 0;
	bool nl = false;

	if (!text || len > COMMENT_MAX + PUBKEY_B64 + 2)
		return fail(why, -EINVAL, "public key is empty or too long");
	if (!next_line(&p, end, &line, &llen, &nl))
		return fail(why, -EINVAL, "public key is empty");
	if (is_comment(line, llen) && nl) {
		/* The .pub file form: the key is the second line. */
		if (!next_line(&p, end, &line, &llen, &nl))
			return fail(why, -EINVAL, "public key file has no key line");
	}
	if (p != end)
		return fail(why, -EINVAL, "public key has extra lines");
	if (!b64_exact(raw, sizeof(raw), line, llen, PUBKEY_B64))
		return fail(why, -EINVAL, "public key is not 56 characters of valid base64");
	if (raw[0] != 'E' || raw[1] != 'd')
		return fail(why, -EINVAL, "public key is not an Ed25519 signify key");
	memcpy(pk->keynum, raw + 2, sizeof(pk->keynum));
	memcpy(pk->key, raw + 10, sizeof(pk->key));
	return 0;
}

void awg_upd_list_free(struct awg_upd_list *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int hexval(char c)
{
	/* b2sum prints lowercase only; an uppercase digit means the list was not made by b2sum. */
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool parse_hash(uint8_t out[32], const char *hex)
{
	int hi, lo;
	size_t i;

	for (i = 0; i < 32; i++) {
		hi = hexval(hex[2 * i]);
		lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '+' || c == '-';
}

/* A bare file name: [A-Za-z0-9._+-]{1,AWG_UPD_FILE_MAX}, not starting with '.' (no "..", no
 * hidden files) and with no '/' by construction, so it can never leave the download directory. */
static bool name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > AWG_UPD_FILE_MAX || s[0] == '.')
		return false;
	for (i = 0; i < len; i++)
		if (!name_char_ok(s[i]))
			return false;
	return true;
}

/* One "<64 hex>  <name>" line (without its '\n') into e; the sentence on failure. */
static const char *parse_entry(struct awg_upd_entry *e, const char *line, size_t len)
{
	if (len < HASH_HEX + 2)
		return "is too short for a hash and a file name";
	if (!parse_hash(e->hash, line))
		return "does not start with 64 lowercase hex digits";
	if (line[HASH_HEX] != ' ' || line[HASH_HEX + 1] != ' ')
		return "does not separate hash and file name with two spaces";
	if (!name_ok(line + HASH_HEX + 2, len - HASH_HEX - 2))
		return "has a file name that is empty, too long, starts with '.' or has characters "
		       "outside [A-Za-z0-9._+-]";
	memcpy(e->file, line + HASH_HEX + 2, len - HASH_HEX - 2);
	e->file[len - HASH_HEX - 2] = '\0';
	return NULL;
}

static int cmp_names(const void *a, const void *b)
{
	const struct awg_upd_entry *const *x = a, *const *y = b;

	return strcmp((*x)->file, (*y)->file);
}

/* Sorted pointers make the duplicate check O(n log n) even for a list at AWG_UPD_LIST_MAX. */
static int find_duplicate(const struct awg_upd_list *l, const char **dup)
{
	const struct awg_upd_entry **s;
	size_t i;

	*dup = NULL;
	s = malloc(l->n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (i = 0; i < l->n; i++)
		s[i] = &l->v[i];
	qsort(s, l->n, sizeof(*s), cmp_names);
	for (i = 1; i < l->n && !*dup; i++)
		if (strcmp(s[i - 1]->file, s[i]->file) == 0)
			*dup = s[i]->file;
	free(s);
	return 0;
}

int awg_upd_list_parse(struct awg_upd_list *out, const char *msg, size_t len, const char **why)
{
	const char *p = msg, *end = msg + len, *line = NULL, *err, *dup;
	struct awg_upd_list l = { 0 };
	size_t llen = 0, max;
	bool nl = false;
	int ret;

	out->v = NULL;
	out->n = 0;
	if (len > AWG_UPD_LIST_MAX)
		return fail(why, -E2BIG, "update list is larger than 512 KiB");
	if (len == 0)
		return fail(why, -EINVAL, "no file hashes found in the update list");
	/* Every entry takes at least 68 bytes with its '\n'. */
	max = len / (HASH_HEX + 3) + 1;
	l.v = calloc(max, sizeof(*l.v));
	if (!l.v)
		return fail(why, -ENOMEM, "out of memory parsing the update list");
	while (next_line(&p, end, &line, &llen, &nl)) {
		if (l.n == max) {
			ret = failf(why, -EINVAL, "update list line %zu is malformed", l.n + 1);
			goto out;
		}
		err = parse_entry(&l.v[l.n], line, llen);
		if (err) {
			ret = failf(why, -EINVAL, "update list line %zu %s", l.n + 1, err);
			goto out;
		}
		l.n++;
	}
	ret = find_duplicate(&l, &dup);
	if (ret < 0) {
		fail(why, ret, "out of memory parsing the update list");
		goto out;
	}
	if (dup) {
		ret = failf(why, -EINVAL, "update list names \"%s\" twice", dup);
		goto out;
	}
	*out = l;
	return 0;
out:
	awg_upd_list_free(&l);
	return ret;
}

static void hex8(char out[17], const uint8_t in[8])
{
	sodium_bin2hex(out, 17, in, 8);
}

int awg_upd_list_verify(struct awg_upd_list *out, const struct awg_upd_pubkey *pk,
			const char *signed_text, size_t len, const char **why)
{
	const char *p = signed_text, *end = signed_text + len, *line = NULL;
	uint8_t raw[SIG_BYTES];
	char got[17], want[17];
	size_t llen = 0;
	bool nl = false;

	out->v = NULL;
	out->n = 0;
	if (len > AWG_UPD_LIST_MAX)
		return fail(why, -E2BIG, "signed update list is larger than 512 KiB");
	if (!signed_text || !next_line(&p, end, &line, &llen, &nl) || !nl)
		return fail(why, -EINVAL, "signed update list has too few lines");
	if (!is_comment(line, llen))
		return fail(why, -EINVAL,
			    "signed update list is missing its untrusted comment line");
	if (!next_line(&p, end, &line, &llen, &nl) || !nl)
		return fail(why, -EINVAL, "signed update list has too few lines");
	if (!b64_exact(raw, sizeof(raw), line, llen, SIG_B64))
		return fail(why, -EINVAL,
			    "signature line is not 100 characters of valid base64 (74 bytes)");
	if (raw[0] != 'E' || raw[1] != 'd')
		return fail(why, -EINVAL, "signature is not an Ed25519 signify signature");
	/* The key id first, as signify does: a clear "wrong key" beats "invalid signature". */
	if (!awg_equal(raw + 2, pk->keynum, sizeof(pk->keynum))) {
		hex8(got, raw + 2);
		hex8(want, pk->keynum);
		return failf(why, -EBADMSG, "signed with another key (key id %s, expected %s)", got,
			     want);
	}
	if (sodium_init() < 0)
		return fail(why, -ENOMEM, "libsodium failed to initialise");
	/* p now points at the embedded message: everything after the second '\n'. */
	if (crypto_sign_verify_detached(raw + 10, (const unsigned char *)p, (size_t)(end - p),
					pk->key) != 0)
		return fail(why, -EBADMSG, "signature is invalid");
	return awg_upd_list_parse(out, p, (size_t)(end - p), why);
}

/* Splits "1.2.3" into parts (missing ones 0); false when malformed. */
static bool parse_version(const char *s, uint16_t parts[VERSION_PARTS])
{
	unsigned long v;
	size_t n = 0, digits;

	memset(parts, 0, VERSION_PARTS * sizeof(parts[0]));
	if (!s)
		return false;
	for (;;) {
		if (n == VERSION_PARTS)
			return false;
		v = 0;
		for (digits = 0; s[digits] >= '0' && s[digits] <= '9'; digits++) {
			v = v * 10 + (unsigned long)(s[digits] - '0');
			if (v > UINT16_MAX)
				return false;
		}
		if (digits == 0)
			return false;
		parts[n++] = (uint16_t)v;
		s += digits;
		if (*s == '\0')
			return true;
		if (*s != '.')
			return false;
		s++;
	}
}

int awg_upd_version_cmp(const char *a, const char *b, int *cmp)
{
	uint16_t va[VERSION_PARTS], vb[VERSION_PARTS];
	size_t i;

	if (!parse_version(a, va) || !parse_version(b, vb))
		return -EINVAL;
	for (i = 0; i < VERSION_PARTS; i++) {
		if (va[i] != vb[i]) {
			*cmp = va[i] < vb[i] ? -1 : 1;
			return 0;
		}
	}
	*cmp = 0;
	return 0;
}

static char arch_buf[sizeof(((struct utsname *)0)->machine)];
static pthread_once_t arch_once = PTHREAD_ONCE_INIT;

static void arch_init(void)
{
	static const struct {
		const char *uname, *debian;
	} map[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "armv7l", "armhf" },
		{ "armv6l", "armhf" }, { "armv8l", "armhf" }, { "i386", "i386" },    { "i486", "i386" },
		{ "i586", "i386" },    { "i686", "i386" },
	};
	struct utsname u;
	size_t i;

	if (uname(&u) < 0) {
		snprintf(arch_buf, sizeof(arch_buf), "unknown");
		return;
	}
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(u.machine, map[i].uname) == 0) {
			snprintf(arch_buf, sizeof(arch_buf), "%s", map[i].debian);
			return;
		}
	}
	snprintf(arch_buf, sizeof(arch_buf), "%s", u.machine);
}

const char *awg_upd_arch(void)
{
	pthread_once(&arch_once, arch_init);
	return arch_buf;
}

/* arch and ext become parts of a file name, so they obey the list's name rules. */
static bool token_ok(const char *s)
{
	size_t len = s ? strlen(s) : 0;

	return len > 0 && len <= 32 && name_ok(s, len);
}

/*
 * The version inside "awg-suite-<arch>-<version>.<ext>" into ver (NUL-terminated): 1 if the
 * name is of that shape, 0 if it is another arch's or ext's, -EINVAL if the version is too long.
 */
static int match_name(const char *file, const char *arch, const char *ext,
		      char ver[AWG_UPD_VERSION_MAX + 1])
{
	size_t flen = strlen(file), plen = strlen(PICK_PREFIX), alen = strlen(arch);
	size_t elen = strlen(ext), head = plen + alen + 1, vlen;

	if (flen <= head + elen + 1)
		return 0;
	if (memcmp(file, PICK_PREFIX, plen) != 0 || memcmp(file + plen, arch, alen) != 0 ||
	    file[plen + alen] != '-')
		return 0;
	if (file[flen - elen - 1] != '.' || memcmp(file + flen - elen, ext, elen) != 0)
		return 0;
	vlen = flen - head - elen - 1;
	if (vlen > AWG_UPD_VERSION_MAX)
		return -EINVAL;
	memcpy(ver, file + head, vlen);
	ver[vlen] = '\0';
	return 1;
}

int awg_upd_pick(const struct awg_upd_list *l, const char *arch, const char *ext,
		 const char *installed, const struct awg_upd_entry **out,
		 char version[AWG_UPD_VERSION_MAX + 1], const char **why)
{
	char ver[AWG_UPD_VERSION_MAX + 1], newest[AWG_UPD_VERSION_MAX + 1] = "none";
	bool have_newest = false;
	size_t i;
	int ret, cmp;

	if (!token_ok(arch) || !token_ok(ext))
		return fail(why, -EINVAL, "architecture or package extension is malformed");
	if (!installed || strlen(installed) > AWG_UPD_VERSION_MAX ||
	    awg_upd_version_cmp(installed, installed, &cmp) < 0)
		return fail(why, -EINVAL, "installed version is malformed");
	for (i = 0; l && i < l->n; i++) {
		ret = match_name(l->v[i].file, arch, ext, ver);
		if (ret == 0)
			continue;
		if (ret < 0 || awg_upd_version_cmp(ver, installed, &cmp) < 0)
			return failf(why, -EINVAL,
				     "update list entry \"%.*s\" has a malformed version",
				     AWG_UPD_VERSION_MAX, l->v[i].file);
		if (cmp > 0) {
			memcpy(version, ver, sizeof(ver));
			*out = &l->v[i];
			return 0;
		}
		/* Only for the sentence below: the newest of the versions that are not newer. */
		if (!have_newest || (awg_upd_version_cmp(ver, newest, &cmp) == 0 && cmp > 0)) {
			memcpy(newest, ver, sizeof(ver));
			have_newest = true;
		}
	}
	return failf(why, -ENOENT, "no newer version (installed %s, newest listed %s)", installed,
		     newest);
}
