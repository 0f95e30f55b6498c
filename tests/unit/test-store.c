// SPDX-License-Identifier: MIT
/*
 * The encrypted config store: directory and key modes, the sealed format and its name binding,
 * tampering, symlinks, stale temp files, natural listing, name rules, drop-in ingestion, the
 * watch, and atomicity when the writer is SIGKILLed mid-save.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "harness.h"
#include "store.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UPPER64 "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"

/* A fresh store root below a fresh mkdtemp directory: base/store (not yet created). */
struct fixture {
	char base[64];
	char root[96];
	struct awg_store s;
};

static bool setup(struct fixture *f)
{
	const char *why = NULL;
	int ret;

	snprintf(f->base, sizeof(f->base), "/tmp/test-store-XXXXXX");
	if (!CHECK(mkdtemp(f->base)))
		return false;
	snprintf(f->root, sizeof(f->root), "%s/store", f->base);
	ret = awg_store_open(&f->s, f->root, &why);
	if (!CHECK_INT(ret, 0))
		fprintf(stderr, "    open: %s\n", why ? why : "?");
	return ret == 0;
}

static void teardown(struct fixture *f)
{
	char cmd[128];

	awg_store_close(&f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->base);
	CHECK_INT(system(cmd), 0);
}

static mode_t mode_at(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

static bool exists_at(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int write_at(int dirfd, const char *name, const void *buf, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* Reads a whole small file; returns its length or -1. */
static ssize_t read_at(int dirfd, const char *name, void *buf, size_t max)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, max);
	close(fd);
	return n;
}

/* Counts <64 hex>.tmp names in dirfd, read through a fresh description of it. */
static unsigned count_tmp(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	unsigned n = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 999;
	}
	while ((de = readdir(d)))
		if (strlen(de->d_name) == 68 && strspn(de->d_name, "0123456789abcdef") == 64 &&
		    !strcmp(de->d_name + 64, ".tmp"))
			n++;
	closedir(d);
	return n;
}

static bool load_is(const struct awg_store *s, const char *name, const char *want, size_t wlen)
{
	char *text = NULL;
	size_t len = 0;
	int ret = awg_store_load(s, name, &text, &len);
	bool ok = !ret && len == wlen && !memcmp(text, want, wlen) && text[len] == '\0';

	if (!ok)
		fprintf(stderr, "    load(%s) = %d, len %zu (want %zu)\n", name, ret, len, wlen);
	if (text) {
		awg_wipe(text, len);
		free(text);
	}
	return ok;
}

static const char conf_a[] = "[Interface]\nPrivateKey = aaaa\nJc = 4\n";
static const char conf_b[] = "[Interface]\nPrivateKey = bbbb\nS1 = 15\n";

static void open_creates_with_modes(void)
{
	struct fixture f;
	struct stat st;
	const char *why = NULL;
	uint8_t key[32];

	if (!setup(&f))
		return;
	CHECK_INT(mode_at(AT_FDCWD, f.root), 0700);
	CHECK_INT(mode_at(f.s.rootfd, "configurations"), 0700);
	CHECK_INT(mode_at(f.s.rootfd, "store.key"), 0400);
	CHECK(fstatat(f.s.rootfd, "store.key", &st, 0) == 0 && st.st_size == 32);
	CHECK(!awg_is_zero(f.s.key, sizeof(f.s.key)));
	CHECK_INT(read_at(f.s.rootfd, "store.key", key, sizeof(key)), 32);
	CHECK_MEM(key, f.s.key, 32);
	CHECK_INT(awg_store_save(&f.s, "wg0", conf_a, strlen(conf_a), false), 0);
	CHECK_INT(mode_at(f.s.dirfd, "wg0.conf.enc"), 0600);
	CHECK(fstatat(f.s.dirfd, "wg0.conf.enc", &st, 0) == 0 &&
	      st.st_size == (off_t)(48 + strlen(conf_a)));

	/* Loose modes are fixed on the next open, and the same key is loaded again. */
	awg_store_close(&f.s);
	CHECK(awg_is_zero(f.s.key, sizeof(f.s.key)));
	CHECK_INT(chmod(f.root, 0755), 0);
	{
		char p[160];

		snprintf(p, sizeof(p), "%s/configurations", f.root);
		CHECK_INT(chmod(p, 0777), 0);
		snprintf(p, sizeof(p), "%s/store.key", f.root);
		CHECK_INT(chmod(p, 0644), 0);
	}
	CHECK_INT(awg_store_open(&f.s, f.root, &why), 0);
	CHECK_INT(mode_at(AT_FDCWD, f.root), 0700);
	CHECK_INT(mode_at(f.s.rootfd, "configurations"), 0700);
	CHECK_INT(mode_at(f.s.rootfd, "store.key"), 0400);
	CHECK_MEM(key, f.s.key, 32);
	CHECK(load_is(&f.s, "wg0", conf_a, strlen(conf_a)));
	awg_wipe(key, sizeof(key));
	teardown(&f);
}

static void bad_key_refused(void)
{
	struct fixture f;
	const char *why = NULL;

	if (!setup(&f))
		return;
	awg_store_close(&f.s);
	{
		char p[160];

		snprintf(p, sizeof(p), "%s/store.key", f.root);
		CHECK_INT(chmod(p, 0600), 0);
		CHECK_INT(truncate(p, 31), 0);
	}
	CHECK_INT(awg_store_open(&f.s, f.root, &why), -EINVAL);
	CHECK(why && strstr(why, "store.key is not 32 bytes"));
	CHECK_INT(f.s.rootfd, -1);
	CHECK_INT(f.s.dirfd, -1);
	awg_store_close(&f.s);	/* harmless after a failed open */
	teardown(&f);
}

static void round_trip(void)
{
	struct fixture f;
	char *big, *text = NULL;
	uint8_t file[512];
	ssize_t n;
	size_t len = 1;

	if (!setup(&f))
		return;
	CHECK_INT(awg_store_save(&f.s, "wg0", conf_a, strlen(conf_a), false), 0);
	CHECK(load_is(&f.s, "wg0", conf_a, strlen(conf_a)));
	/* The plaintext is not in the file. */
	n = read_at(f.s.dirfd, "wg0.conf.enc", file, sizeof(file));
	CHECK_INT(n, 48 + (ssize_t)strlen(conf_a));
	CHECK(n > 0 && !memmem(file, (size_t)n, "PrivateKey", 10));
	CHECK_MEM(file, "AWGS\x01\x00\x00\x00", 8);
	/* Two saves of the same text use different nonces. */
	CHECK_INT(awg_store_save(&f.s, "wg1", conf_a, strlen(conf_a), false), 0);
	{
		uint8_t other[512];

		CHECK_INT(read_at(f.s.dirfd, "wg1.conf.enc", other, sizeof(other)), n);
		CHECK(memcmp(file + 8, other + 8, 24) != 0);
	}
	/* Empty and maximum sizes; one byte more is refused. */
	CHECK_INT(awg_store_save(&f.s, "empty", "", 0, false), 0);
	CHECK_INT(awg_store_load(&f.s, "empty", &text, &len), 0);
	CHECK(text && len == 0 && text[0] == '\0');
	free(text);
	big = malloc(AWG_STORE_TEXT_MAX + 1);
	if (CHECK(big)) {
		for (size_t i = 0; i < AWG_STORE_TEXT_MAX + 1; i++)
			big[i] = (char)('a' + i % 23);
		CHECK_INT(awg_store_save(&f.s, "big", big, AWG_STORE_TEXT_MAX + 1, false), -EFBIG);
		CHECK_INT(awg_store_save(&f.s, "big", big, AWG_STORE_TEXT_MAX, false), 0);
		CHECK(load_is(&f.s, "big", big, AWG_STORE_TEXT_MAX));
		free(big);
	}
	CHECK_INT(awg_store_load(&f.s, "nothere", &text, &len), -ENOENT);
	CHECK(text == NULL);
	CHECK_INT(awg_store_save(&f.s, "bad/name", "x", 1, false), -EINVAL);
	CHECK_INT(awg_store_load(&f.s, "../store", &text, &len), -EINVAL);
	CHECK_INT(count_tmp(f.s.dirfd), 0);
	teardown(&f);
}

static void duplicates_and_case(void)
{
	struct fixture f;
	char found[AWG_STORE_NAME_MAX + 1];
	char (*names)[AWG_STORE_NAME_MAX + 1] = NULL;
	size_t n = 0;

	if (!setup(&f))
		return;
	CHECK_INT(awg_store_save(&f.s, "Office", conf_a, strlen(conf_a), false), 0);
	CHECK_INT(awg_store_save(&f.s, "Office", conf_b, strlen(conf_b), false), -EEXIST);
	CHECK_INT(awg_store_save(&f.s, "office", conf_b, strlen(conf_b), false), -EEXIST);
	CHECK_INT(awg_store_save(&f.s, "OFFICE", conf_b, strlen(conf_b), false), -EEXIST);
	CHECK(load_is(&f.s, "Office", conf_a, strlen(conf_a)));
	CHECK_INT(count_tmp(f.s.dirfd), 0);

	CHECK_INT(awg_store_find(&f.s, "oFFICE", found), 0);
	CHECK(!strcmp(found, "Office"));
	CHECK_INT(awg_store_find(&f.s, "Offic", found), -ENOENT);
	CHECK_INT(awg_store_find(&f.s, "$", found), -EINVAL);

	/* Same spelling: replaced in place. */
	CHECK_INT(awg_store_save(&f.s, "Office", conf_b, strlen(conf_b), true), 0);
	CHECK(load_is(&f.s, "Office", conf_b, strlen(conf_b)));
	/* Other spelling: the new one replaces the old, which is gone. */
	CHECK_INT(awg_store_save(&f.s, "office", conf_a, strlen(conf_a), true), 0);
	CHECK(load_is(&f.s, "office", conf_a, strlen(conf_a)));
	CHECK(!exists_at(f.s.dirfd, "Office.conf.enc"));
	CHECK_INT(awg_store_find(&f.s, "OFFICE", found), 0);
	CHECK(!strcmp(found, "office"));
	CHECK_INT(awg_store_list(&f.s, &names, &n), 0);
	CHECK_INT(n, 1);
	CHECK(n == 1 && !strcmp(names[0], "office"));
	free(names);
	teardown(&f);
}

static void renamed_file_fails(void)
{
	struct fixture f;
	char *text = NULL;
	size_t len = 0;

	if (!setup(&f))
		return;
	CHECK_INT(awg_store_save(&f.s, "alpha", conf_a, strlen(conf_a), false), 0);
	CHECK_INT(renameat(f.s.dirfd, "alpha.conf.enc", f.s.dirfd, "beta.conf.enc"), 0);
	CHECK_INT(awg_store_load(&f.s, "beta", &text, &len), -EBADMSG);
	CHECK(text == NULL);
	/* Even a change of case only is another name. */
	CHECK_INT(renameat(f.s.dirfd, "beta.conf.enc", f.s.dirfd, "Alpha.conf.enc"), 0);
	CHECK_INT(awg_store_load(&f.s, "Alpha", &text, &len), -EBADMSG);
	CHECK_INT(renameat(f.s.dirfd, "Alpha.conf.enc", f.s.dirfd, "alpha.conf.enc"), 0);
	CHECK(load_is(&f.s, "alpha", conf_a, strlen(conf_a)));
	teardown(&f);
}

static void other_key_fails(void)
{
	struct fixture f, g;
	uint8_t file[512];
	char *text = NULL;
	size_t len = 0;
	ssize_t n;

	if (!setup(&f))
		return;
	if (!setup(&g)) {
		teardown(&f);
		return;
	}
	CHECK(memcmp(f.s.key, g.s.key, 32) != 0);
	CHECK_INT(awg_store_save(&f.s, "wg0", conf_a, strlen(conf_a), false), 0);
	n = read_at(f.s.dirfd, "wg0.conf.enc", file, sizeof(file));
	CHECK(n > 0 && write_at(g.s.dirfd, "wg0.conf.enc", file, (size_t)n) == 0);
	CHECK_INT(awg_store_load(&g.s, "wg0", &text, &len), -EBADMSG);
	teardown(&g);
	teardown(&f);
}

static void tampering_fails(void)
{
	struct fixture f;
	uint8_t file[512], bad[512];
	char *text = NULL;
	size_t len = 0;
	ssize_t n;

	if (!setup(&f))
		return;
	CHECK_INT(awg_store_save(&f.s, "wg0", conf_a, strlen(conf_a), false), 0);
	n = read_at(f.s.dirfd, "wg0.conf.enc", file, sizeof(file));
	if (!CHECK(n == 48 + (ssize_t)strlen(conf_a)))
		goto out;
	/* Magic, version, reserved, nonce start/end, ciphertext start/middle, tag start/end. */
	{
		const size_t offs[] = { 0, 3, 4, 5, 7, 8, 31, 32, 40, (size_t)n - 17,
					(size_t)n - 16, (size_t)n - 1 };

		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			int ret;

			memcpy(bad, file, (size_t)n);
			bad[offs[i]] ^= 0x01;
			CHECK_INT(write_at(f.s.dirfd, "wg0.conf.enc", bad, (size_t)n), 0);
			ret = awg_store_load(&f.s, "wg0", &text, &len);
			if (!CHECK(ret == -EBADMSG || ret == -EINVAL))
				fprintf(stderr, "    offset %zu: %d\n", offs[i], ret);
			CHECK(text == NULL);
		}
		/* The header is checked before authentication: a bad magic is not a store file. */
		bad[0] = file[0] ^ 1;
		write_at(f.s.dirfd, "wg0.conf.enc", bad, (size_t)n);
		CHECK_INT(awg_store_load(&f.s, "wg0", &text, &len), -EINVAL);
	}
	/* Truncated: one byte short of a tag, and cut in the middle. */
	CHECK_INT(write_at(f.s.dirfd, "wg0.conf.enc", file, 47), 0);
	CHECK_INT(awg_store_load(&f.s, "wg0", &text, &len), -EINVAL);
	CHECK_INT(write_at(f.s.dirfd, "wg0.conf.enc", file, (size_t)n - 5), 0);
	CHECK_INT(awg_store_load(&f.s, "wg0", &text, &len), -EBADMSG);
	/* Appended garbage. */
	memcpy(bad, file, (size_t)n);
	bad[n] = 0;
	CHECK_INT(write_at(f.s.dirfd, "wg0.conf.enc", bad, (size_t)n + 1), 0);
	CHECK_INT(awg_store_load(&f.s, "wg0", &text, &len), -EBADMSG);
	/* Restored, it opens again: the failures above were the flips. */
	CHECK_INT(write_at(f.s.dirfd, "wg0.conf.enc", file, (size_t)n), 0);
	CHECK(load_is(&f.s, "wg0", conf_a, strlen(conf_a)));
out:
	teardown(&f);
}

static void symlinks_refused(void)
{
	struct fixture f;
	char outside[160], target[192], *text = NULL;
	uint8_t before[512], after[512];
	size_t len = 0;
	ssize_t nb, na;
	const char *why = NULL;
	int basefd;

	if (!setup(&f))
		return;
	basefd = open(f.base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* A genuine sealed "evil" config moved outside the store, and a symlink to it planted:
	 * following the link would succeed, so only the refusal to follow makes load fail. */
	CHECK_INT(awg_store_save(&f.s, "evil", conf_a, strlen(conf_a), false), 0);
	CHECK_INT(renameat(f.s.dirfd, "evil.conf.enc", basefd, "outside"), 0);
	snprintf(outside, sizeof(outside), "%s/outside", f.base);
	CHECK_INT(symlinkat(outside, f.s.dirfd, "evil.conf.enc"), 0);
	nb = read_at(basefd, "outside", before, sizeof(before));
	CHECK_INT(awg_store_load(&f.s, "evil", &text, &len), -ELOOP);
	CHECK(text == NULL);
	/* Saving over the link replaces the link, never writes through it. */
	CHECK_INT(awg_store_save(&f.s, "evil", conf_b, strlen(conf_b), false), -EEXIST);
	CHECK_INT(awg_store_save(&f.s, "evil", conf_b, strlen(conf_b), true), 0);
	CHECK(load_is(&f.s, "evil", conf_b, strlen(conf_b)));
	na = read_at(basefd, "outside", after, sizeof(after));
	CHECK(nb > 0 && na == nb && !memcmp(before, after, (size_t)nb));
	CHECK_INT(mode_at(basefd, "outside"), 0600);
	/* Delete removes a planted link, not its target. */
	CHECK_INT(unlinkat(f.s.dirfd, "evil.conf.enc", 0), 0);
	CHECK_INT(symlinkat(outside, f.s.dirfd, "evil.conf.enc"), 0);
	CHECK_INT(awg_store_delete(&f.s, "evil"), 0);
	CHECK(exists_at(basefd, "outside"));

	/* configurations/ replaced by a symlink to a real directory: open refuses. */
	awg_store_close(&f.s);
	snprintf(target, sizeof(target), "%s/configurations.real", f.root);
	{
		char conf[160];

		snprintf(conf, sizeof(conf), "%s/configurations", f.root);
		CHECK_INT(rename(conf, target), 0);
		CHECK_INT(symlink(target, conf), 0);
	}
	CHECK_INT(awg_store_open(&f.s, f.root, &why), -ELOOP);
	CHECK(why && strstr(why, "/configurations is a symlink"));
	CHECK(why && strstr(why, f.root));
	CHECK_INT(f.s.rootfd, -1);

	/* The root itself as a symlink: refused too. */
	snprintf(target, sizeof(target), "%s/rootlink", f.base);
	CHECK_INT(symlink(f.root, target), 0);
	CHECK_INT(awg_store_open(&f.s, target, &why), -ELOOP);
	CHECK(why && strstr(why, "rootlink is a symlink"));
	/* A file where a directory belongs. */
	snprintf(target, sizeof(target), "%s/outside", f.base);
	CHECK_INT(awg_store_open(&f.s, target, &why), -ENOTDIR);
	close(basefd);
	teardown(&f);
}

static void foreign_owner_refused(void)
{
	struct fixture f;
	const char *why = NULL;
	char conf[160];

	if (geteuid() != 0) {
		printf("  (skipped foreign-owner check: not root)\n");
		return;
	}
	if (!setup(&f))
		return;
	awg_store_close(&f.s);
	snprintf(conf, sizeof(conf), "%s/configurations", f.root);
	CHECK_INT(chown(conf, 4242, 4242), 0);
	CHECK_INT(awg_store_open(&f.s, f.root, &why), -EPERM);
	CHECK(why && strstr(why, "owned by uid 4242"));
	teardown(&f);
}

static void stale_tmp_removed(void)
{
	struct fixture f;
	const char *why = NULL;

	if (!setup(&f))
		return;
	CHECK_INT(write_at(f.s.dirfd, HEX64 ".tmp", "x", 1), 0);
	CHECK_INT(write_at(f.s.rootfd, HEX64 ".tmp", "x", 1), 0);
	CHECK_INT(write_at(f.s.dirfd, "keep.tmp", "x", 1), 0);
	CHECK_INT(write_at(f.s.dirfd, UPPER64 ".tmp", "x", 1), 0);
	/* Another handle is open: a writer's temp file may be live, so nothing is swept. */
	{
		struct awg_store other;

		CHECK_INT(awg_store_open(&other, f.root, &why), 0);
		CHECK(exists_at(other.dirfd, HEX64 ".tmp"));
		awg_store_close(&other);
	}
	awg_store_close(&f.s);
	CHECK_INT(awg_store_open(&f.s, f.root, &why), 0);
	CHECK(!exists_at(f.s.dirfd, HEX64 ".tmp"));
	CHECK(!exists_at(f.s.rootfd, HEX64 ".tmp"));
	CHECK(exists_at(f.s.dirfd, "keep.tmp"));
	CHECK(exists_at(f.s.dirfd, UPPER64 ".tmp"));	/* not ours: upper-case hex */
	teardown(&f);
}

static void list_natural_and_delete(void)
{
	static const char *const saved[] = { "tun10", "b", "tun2", "A", "Tun3", "tun1", "a.b" };
	static const char *const want[] = { "A", "a.b", "b", "tun1", "tun2", "Tun3", "tun10" };
	char (*names)[AWG_STORE_NAME_MAX + 1] = NULL;
	struct fixture f;
	char *text = NULL;
	size_t n = 0, len;

	if (!setup(&f))
		return;
	CHECK_INT(awg_store_list(&f.s, &names, &n), 0);
	CHECK(n == 0 && names == NULL);
	for (size_t i = 0; i < sizeof(saved) / sizeof(saved[0]); i++)
		CHECK_INT(awg_store_save(&f.s, saved[i], saved[i], strlen(saved[i]), false), 0);
	/* Junk: invalid names, a plaintext drop-in, a directory, a symlink, other suffixes. */
	CHECK_INT(write_at(f.s.dirfd, "junk.txt", "x", 1), 0);
	CHECK_INT(write_at(f.s.dirfd, "$bad.conf.enc", "x", 1), 0);
	CHECK_INT(write_at(f.s.dirfd, ".conf.enc", "x", 1), 0);
	CHECK_INT(write_at(f.s.dirfd, "con.conf.enc", "x", 1), 0);
	CHECK_INT(write_at(f.s.dirfd, "x.conf", "x", 1), 0);
	CHECK_INT(write_at(f.s.dirfd, "y.conf.enc.bak", "x", 1), 0);
	CHECK_INT(mkdirat(f.s.dirfd, "dir.conf.enc", 0700), 0);
	CHECK_INT(symlinkat("tun1.conf.enc", f.s.dirfd, "link.conf.enc"), 0);
	CHECK_INT(awg_store_list(&f.s, &names, &n), 0);
	CHECK_INT(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n && i < sizeof(want) / sizeof(want[0]); i++)
		if (!CHECK(!strcmp(names[i], want[i])))
			fprintf(stderr, "    [%zu] %s, want %s\n", i, names[i], want[i]);
	free(names);

	CHECK_INT(awg_store_delete(&f.s, "b"), 0);
	CHECK_INT(awg_store_load(&f.s, "b", &text, &len), -ENOENT);
	CHECK_INT(awg_store_delete(&f.s, "b"), -ENOENT);
	CHECK_INT(awg_store_delete(&f.s, ".."), -EINVAL);
	CHECK_INT(awg_store_list(&f.s, &names, &n), 0);
	CHECK_INT(n, sizeof(want) / sizeof(want[0]) - 1);
	free(names);
	teardown(&f);
}

static void name_rules(void)
{
	static const struct {
		const char *name;
		bool valid;
	} cases[] = {
		{ "wg0", true },
		{ "a", true },
		{ "Office-VPN_2=+.x", true },
		{ "console", true },
		{ "com0", true },
		{ "COM10", true },
		{ "conx.foo", true },
		{ "a.b", true },
		{ "abcdefghijabcdefghijabcdefghij12", true },	/* 32 */
		{ "abcdefghijabcdefghijabcdefghij123", false },	/* 33 */
		{ "abcdefghijabcdefghijabcdefghij12345678901234567890", false },
		{ "", false },
		{ "con", false },
		{ "CON", false },
		{ "con.foo", false },
		{ "Nul.x.y", false },
		{ "prn", false },
		{ "aux", false },
		{ "com1", false },
		{ "LPT9", false },
		{ "lpt5.conf", false },
		{ "$", false },
		{ "wg$0", false },
		{ ".hidden", false },
		{ "trailing.", false },
		{ ".", false },
		{ "..", false },
		{ "a/b", false },
		{ "a b", false },
		{ "a\tb", false },
		{ "a\\b", false },
		{ "a:b", false },
		{ "caf\xc3\xa9", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = "unset";
		bool ok = awg_store_name_valid(cases[i].name, &why);

		if (!CHECK(ok == cases[i].valid))
			fprintf(stderr, "    \"%s\": %d\n", cases[i].name, ok);
		CHECK(ok ? why == NULL : why != NULL && why[0]);
	}
	CHECK(!awg_store_name_valid(NULL, NULL));
	{
		const char *why = NULL;

		awg_store_name_valid("con.foo", &why);
		CHECK(why && strstr(why, "reserved"));
		awg_store_name_valid("abcdefghijabcdefghijabcdefghij123", &why);
		CHECK(why && strstr(why, "longer"));
		awg_store_name_valid(".x", &why);
		CHECK(why && strstr(why, "starts or ends"));
		awg_store_name_valid("$", &why);
		CHECK(why && strstr(why, "character"));
	}
}

struct ingest_log {
	char names[8][64];
	char reasons[8][320];
	unsigned n;
	unsigned canon_calls;
};

/* The stand-in for the config parser: must start with [Interface]; stores a canonical form. */
static int canon(void *ctx, const char *name, const char *text, size_t len, char **out,
		 size_t *outlen, char *why, size_t whylen)
{
	static const char prefix[] = "# canonical\n";
	struct ingest_log *log = ctx;

	(void)name;
	log->canon_calls++;
	if (strlen(text) != len || strncmp(text, "[Interface]", 11)) {
		snprintf(why, whylen, "line 1: expected [Interface]");
		return -EINVAL;
	}
	*out = malloc(sizeof(prefix) - 1 + len);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, prefix, sizeof(prefix) - 1);
	memcpy(*out + sizeof(prefix) - 1, text, len);
	*outlen = sizeof(prefix) - 1 + len;
	return 0;
}

static void report(void *ctx, const char *name, const char *reason)
{
	struct ingest_log *log = ctx;

	if (log->n < 8) {
		snprintf(log->names[log->n], sizeof(log->names[0]), "%s", name);
		snprintf(log->reasons[log->n], sizeof(log->reasons[0]), "%s", reason);
	}
	log->n++;
}

static const char *reason_for(const struct ingest_log *log, const char *name)
{
	for (unsigned i = 0; i < log->n && i < 8; i++)
		if (!strcmp(log->names[i], name))
			return log->reasons[i];
	return NULL;
}

static void ingest_dropins(void)
{
	struct ingest_log log = { 0 };
	struct fixture f;
	char outside[160], want[128];
	const char *r;
	int basefd;

	if (!setup(&f))
		return;
	basefd = open(f.base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK_INT(awg_store_save(&f.s, "Taken", conf_b, strlen(conf_b), false), 0);
	CHECK_INT(write_at(f.s.dirfd, "good.conf", conf_a, strlen(conf_a)), 0);
	CHECK_INT(write_at(f.s.dirfd, "bad.conf", "garbage\n", 8), 0);
	CHECK_INT(write_at(f.s.dirfd, "taken.conf", conf_a, strlen(conf_a)), 0);
	CHECK_INT(write_at(f.s.dirfd, "empty.conf", "", 0), 0);
	CHECK_INT(write_at(f.s.dirfd, "wg$1.conf", conf_a, strlen(conf_a)), 0);
	CHECK_INT(mkdirat(f.s.dirfd, "sub.conf", 0700), 0);
	CHECK_INT(write_at(basefd, "outside", conf_a, strlen(conf_a)), 0);
	snprintf(outside, sizeof(outside), "%s/outside", f.base);
	CHECK_INT(symlinkat(outside, f.s.dirfd, "sym.conf"), 0);

	CHECK_INT(awg_store_ingest(&f.s, canon, report, &log), 1);
	/* good: sealed in canonical form, plaintext gone. */
	snprintf(want, sizeof(want), "# canonical\n%s", conf_a);
	CHECK(load_is(&f.s, "good", want, strlen(want)));
	CHECK(!exists_at(f.s.dirfd, "good.conf"));
	CHECK_INT(mode_at(f.s.dirfd, "good.conf.enc"), 0600);
	/* bad: reported with the parser's reason, moved aside. */
	r = reason_for(&log, "bad");
	CHECK(r && strstr(r, "expected [Interface]"));
	CHECK(!exists_at(f.s.dirfd, "bad.conf") && exists_at(f.s.dirfd, "bad.conf.rejected"));
	CHECK(!exists_at(f.s.dirfd, "bad.conf.enc"));
	/* taken (as "Taken"): not overwritten. */
	r = reason_for(&log, "taken");
	CHECK(r && strstr(r, "already exists"));
	CHECK(exists_at(f.s.dirfd, "taken.conf.rejected"));
	CHECK(load_is(&f.s, "Taken", conf_b, strlen(conf_b)));
	CHECK(!exists_at(f.s.dirfd, "taken.conf.enc"));
	/* sym: never followed; the link itself is moved aside, the target untouched. */
	r = reason_for(&log, "sym");
	CHECK(r && strstr(r, "symlink"));
	CHECK(exists_at(f.s.dirfd, "sym.conf.rejected") && !exists_at(f.s.dirfd, "sym.conf"));
	CHECK(exists_at(basefd, "outside"));
	CHECK(!exists_at(f.s.dirfd, "sym.conf.enc"));
	/* wg$1: an invalid name is reported and moved aside. */
	r = reason_for(&log, "wg$1");
	CHECK(r && strstr(r, "invalid tunnel name"));
	CHECK(exists_at(f.s.dirfd, "wg$1.conf.rejected"));
	/* empty (still being written) and the directory are left alone, unreported. */
	CHECK(exists_at(f.s.dirfd, "empty.conf") && !reason_for(&log, "empty"));
	CHECK(exists_at(f.s.dirfd, "sub.conf") && !reason_for(&log, "sub"));
	CHECK_INT(log.n, 4);
	CHECK_INT(log.canon_calls, 3);	/* good, bad, taken */

	/* Nothing left to do: a second scan ingests and reports nothing. */
	log.n = 0;
	CHECK_INT(awg_store_ingest(&f.s, canon, report, &log), 0);
	CHECK_INT(log.n, 0);
	/* Once written, the empty one is ingested. */
	CHECK_INT(write_at(f.s.dirfd, "empty.conf", conf_b, strlen(conf_b)), 0);
	CHECK_INT(awg_store_ingest(&f.s, canon, report, &log), 1);
	snprintf(want, sizeof(want), "# canonical\n%s", conf_b);
	CHECK(load_is(&f.s, "empty", want, strlen(want)));
	CHECK_INT(count_tmp(f.s.dirfd), 0);
	close(basefd);
	teardown(&f);
}

static void watch_events(void)
{
	struct fixture f;
	int fd;

	if (!setup(&f))
		return;
	fd = awg_store_watch(&f.s);
	if (!CHECK(fd >= 0))
		goto out;
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK(!awg_store_watch_drain(fd));
	/* The store's own temp files alone are not a change. */
	CHECK_INT(write_at(f.s.dirfd, HEX64 ".tmp", "x", 1), 0);
	CHECK_INT(unlinkat(f.s.dirfd, HEX64 ".tmp", 0), 0);
	CHECK(!awg_store_watch_drain(fd));
	CHECK_INT(awg_store_save(&f.s, "wg0", conf_a, strlen(conf_a), false), 0);
	CHECK(awg_store_watch_drain(fd));
	CHECK(!awg_store_watch_drain(fd));
	CHECK_INT(write_at(f.s.dirfd, "drop.conf", conf_a, strlen(conf_a)), 0);
	CHECK(awg_store_watch_drain(fd));
	CHECK_INT(awg_store_delete(&f.s, "wg0"), 0);
	CHECK(awg_store_watch_drain(fd));
	/* Writes to the root (not configurations/) are not watched. */
	CHECK_INT(write_at(f.s.rootfd, "other", "x", 1), 0);
	CHECK(!awg_store_watch_drain(fd));
	close(fd);
out:
	teardown(&f);
}

static void fill(char *buf, size_t len, char tag)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (i % 64 == 63) ? '\n' : (char)(tag + (i / 64) % 3);
}

/*
 * A child saves one name in a tight loop, alternating A (200 KiB) and B (100 KiB); it is
 * SIGKILLed at a random moment. Whatever the moment, the stored config is exactly A or B.
 */
static void crash_atomicity(void)
{
	enum { A_LEN = 200 << 10, B_LEN = 100 << 10, ROUNDS = 20 };
	struct fixture f;
	char *a = malloc(A_LEN), *b = malloc(B_LEN);
	/* Shared with the children: completed saves and failed saves. */
	unsigned long *shared = mmap(NULL, 2 * sizeof(long), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned seen_a = 0, seen_b = 0;

	if (!CHECK(a && b && shared != MAP_FAILED) || !setup(&f))
		goto free;
	shared[0] = shared[1] = 0;
	fill(a, A_LEN, 'A');
	fill(b, B_LEN, 'a');
	CHECK_INT(awg_store_save(&f.s, "crash", a, A_LEN, false), 0);
	for (int round = 0; round < ROUNDS; round++) {
		const char *why = NULL;
		char *text = NULL;
		size_t len = 0;
		uint16_t r;
		pid_t pid;
		int st = 0;

		pid = fork();
		if (pid == 0) {
			for (unsigned long i = 0;; i++) {
				const char *t = i % 2 ? a : b;
				size_t tlen = i % 2 ? A_LEN : B_LEN;

				if (awg_store_save(&f.s, "crash", t, tlen, true))
					__atomic_add_fetch(&shared[1], 1, __ATOMIC_SEQ_CST);
				else
					__atomic_add_fetch(&shared[0], 1, __ATOMIC_SEQ_CST);
			}
		}
		if (!CHECK(pid > 0))
			break;
		awg_random_bytes(&r, sizeof(r));
		usleep(r % 20001);
		kill(pid, SIGKILL);
		CHECK_INT(waitpid(pid, &st, 0), pid);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

		CHECK_INT(awg_store_load(&f.s, "crash", &text, &len), 0);
		if (text && len == A_LEN && !memcmp(text, a, A_LEN))
			seen_a++;
		else if (text && len == B_LEN && !memcmp(text, b, B_LEN))
			seen_b++;
		else
			CHECK(!"load returned neither A nor B");
		free(text);
		/* At most the one temp file of the interrupted save; none after a re-open. */
		CHECK(count_tmp(f.s.dirfd) <= 1);
		awg_store_close(&f.s);
		if (!CHECK_INT(awg_store_open(&f.s, f.root, &why), 0))
			break;
		CHECK_INT(count_tmp(f.s.dirfd), 0);
		CHECK_INT(count_tmp(f.s.rootfd), 0);
	}
	CHECK_INT(seen_a + seen_b, ROUNDS);
	CHECK_INT(shared[1], 0);	/* no save in a child failed */
	CHECK(shared[0] > 0);		/* and the children did save: the kills hit live writers */
	printf("  %lu saves by the children; after the kills A %u times, B %u times\n", shared[0],
	       seen_a, seen_b);
	teardown(&f);
free:
	if (shared != MAP_FAILED)
		munmap(shared, 2 * sizeof(long));
	free(a);
	free(b);
}

TEST_MAIN("store",
	  T(open_creates_with_modes),
	  T(bad_key_refused),
	  T(round_trip),
	  T(duplicates_and_case),
	  T(renamed_file_fails),
	  T(other_key_fails),
	  T(tampering_fails),
	  T(symlinks_refused),
	  T(foreign_owner_refused),
	  T(stale_tmp_removed),
	  T(list_natural_and_delete),
	  T(name_rules),
	  T(ingest_dropins),
	  T(watch_events),
	  T(crash_atomicity))
