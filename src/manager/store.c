// SPDX-License-Identifier: MIT
/* Owns the encrypted config store: directory hardening, the key, the sealed file format,
 * atomic writes, drop-in ingestion and the directory watch (format and rules in store.h). */
#include "fdio.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"

#define CONF_DIR "configurations"
#define KEY_FILE "store.key"
#define SUFFIX_ENC ".conf.enc"
#define SUFFIX_CONF ".conf"
#define SUFFIX_REJECTED ".rejected"

#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | \
		    IN_ATTRIB)

enum {
	HDR_LEN = 8,
	NONCE_LEN = AWG_CRYPTO_XNONCE_LEN,
	BODY_OFF = HDR_LEN + NONCE_LEN,			/* ciphertext || tag start here */
	OVERHEAD = BODY_OFF + AWG_CRYPTO_TAG_LEN,	/* file size = OVERHEAD + plaintext */
	TMP_NAME_LEN = 2 * 32 + 4,			/* <64 hex>.tmp */
	ENC_NAME_MAX = AWG_STORE_NAME_MAX + sizeof(SUFFIX_ENC) - 1,
	AD_MAX = HDR_LEN + AWG_STORE_NAME_MAX,
};

static const uint8_t header_v1[HDR_LEN] = { 'A', 'W', 'G', 'S', 1, 0, 0, 0 };

/* --- names --- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("_=+.-", c));
}

/* WireGuard compares the part before the first dot, so "con.foo" is reserved too. */
static bool reserved(const char *name)
{
	static const char *const words[] = { "CON", "PRN", "AUX", "NUL" };
	size_t n = strcspn(name, ".");

	for (size_t i = 0; n == 3 && i < sizeof(words) / sizeof(words[0]); i++)
		if (!strncasecmp(name, words[i], 3))
			return true;
	return n == 4 && (!strncasecmp(name, "COM", 3) || !strncasecmp(name, "LPT", 3)) &&
	       name[3] >= '1' && name[3] <= '9';
}

bool awg_store_name_valid(const char *name, const char **why)
{
	size_t n = name ? strnlen(name, AWG_STORE_NAME_MAX + 1) : 0;
	const char *w = NULL;

	if (!n)
		w = "the name is empty";
	else if (n > AWG_STORE_NAME_MAX)
		w = "the name is longer than 32 characters";
	for (size_t i = 0; !w && i < n; i++)
		if (!name_char(name[i]))
			w = "the name has a character other than a-z A-Z 0-9 _ = + . -";
	if (!w && (name[0] == '.' || name[n - 1] == '.'))
		w = "the name starts or ends with '.'";
	if (!w && reserved(name))
		w = "the name is reserved (CON, PRN, AUX, NUL, COM1-9, LPT1-9, also before a dot)";
	if (why)
		*why = w;
	return !w;
}

/* If entry is <base><suffix> with a base of 1..cap-1 bytes, copies base and returns true. */
static bool split_name(const char *entry, const char *suffix, char *base, size_t cap)
{
	size_t n = strlen(entry), sl = strlen(suffix);

	if (n <= sl || n - sl >= cap || strcmp(entry + n - sl, suffix))
		return false;
	memcpy(base, entry, n - sl);
	base[n - sl] = '\0';
	return true;
}

/* A directory entry that names a stored config: <valid name>.conf.enc. */
static bool stored_name(const char *entry, char base[AWG_STORE_NAME_MAX + 1])
{
	return split_name(entry, SUFFIX_ENC, base, AWG_STORE_NAME_MAX + 1) &&
	       awg_store_name_valid(base, NULL);
}

static void enc_name(char out[ENC_NAME_MAX + 1], const char *name)
{
	snprintf(out, ENC_NAME_MAX + 1, "%s" SUFFIX_ENC, name);
}

static void tmp_name(char out[TMP_NAME_LEN + 1])
{
	uint8_t r[32];

	awg_random_bytes(r, sizeof(r));
	awg_key_to_hex(out, r);
	memcpy(out + 64, ".tmp", 5);
}

static bool is_tmp_name(const char *s)
{
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return !strcmp(s + 64, ".tmp");
}

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c;
}

static bool ascii_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Digit runs compare by value (leading zeros ignored), everything else case-insensitively. */
static int natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (ascii_digit(*a) && ascii_digit(*b)) {
			size_t la = 0, lb = 0;
			int c;

			while (*a == '0')
				a++;
			while (*b == '0')
				b++;
			while (ascii_digit(a[la]))
				la++;
			while (ascii_digit(b[lb]))
				lb++;
			if (la != lb)
				return la < lb ? -1 : 1;
			c = strncmp(a, b, la);
			if (c)
				return c;
			a += la;
			b += lb;
			continue;
		}
		if (ascii_lower(*a) != ascii_lower(*b))
			return ascii_lower(*a) - ascii_lower(*b);
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int name_cmp(const void *pa, const void *pb)
{
	const char *a = pa, *b = pb;
	int c = natural_cmp(a, b);

	return c ? c : strcmp(a, b);
}

/* --- small I/O helpers --- */

static __thread char why_buf[PATH_MAX + 128];

__attribute__((format(printf, 1, 2))) static const char *explain(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	return why_buf;
}

/* Returns the bytes read (fewer than len only at end of file) or -errno. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * Calls fn for each entry of dirfd but "." and ".."; stops at fn's first nonzero return and
 * returns it. Reads through a fresh open file description, so scans never share a position.
 */
static int scan(int dirfd, int (*fn)(int dirfd, const struct dirent *de, void *arg), void *arg)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		ret = -errno;
		close(fd);
		return ret;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			ret = errno ? -errno : 0;
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ret = fn(dirfd, de, arg);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}

static unsigned char entry_type(int dirfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type;
	if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return DT_UNKNOWN;
	return IFTODT(st.st_mode);
}

/* --- atomic write: <64 hex>.tmp, write, fsync, rename, fsync the directory --- */

/* Creates a fresh temp file in dirfd holding buf. On failure nothing is left behind. */
static int tmp_write(int dirfd, char tmp[TMP_NAME_LEN + 1], const void *buf, size_t len,
		     mode_t mode)
{
	int fd = -1, ret = 0;

	/*
	 * 256 random bits never collide by chance; a retry only helps after a fork, where the
	 * child of a handle's owner drew the same random bytes and was killed mid-write.
	 */
	for (int tries = 0; fd < 0 && tries < 4; tries++) {
		tmp_name(tmp);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return -errno;
	/* The umask must not decide who may read the file. */
	if (fchmod(fd, mode) < 0)
		ret = -errno;
	if (!ret)
		ret = awg_fd_write_all(fd, buf, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (ret)
		unlinkat(dirfd, tmp, 0);
	return ret;
}

/* Renames tmp to final (never replacing unless overwrite) and makes that durable. */
static int tmp_commit(int dirfd, const char *tmp, const char *final, bool overwrite)
{
	int ret = 0;

	if (renameat2(dirfd, tmp, dirfd, final, overwrite ? 0 : RENAME_NOREPLACE) < 0) {
		ret = -errno;
		/* A file system without RENAME_NOREPLACE: link() never replaces either. */
		if (ret == -EINVAL && !overwrite) {
			ret = linkat(dirfd, tmp, dirfd, final, 0) < 0 ? -errno : 0;
			unlinkat(dirfd, tmp, 0);
		}
	}
	if (ret) {
		unlinkat(dirfd, tmp, 0);
		return ret;
	}
	return fsync(dirfd) < 0 ? -errno : 0;
}

/* --- open and close --- */

/*
 * Opens (creating if missing) the directory name under atfd, refusing a symlink, a non-directory
 * and a foreign owner, and fixing the mode to 0700. shown is the path for messages.
 */
static int open_dir(int atfd, const char *name, const char *shown, int *out, const char **why)
{
	struct stat st;
	int fd, ret;

	if (mkdirat(atfd, name, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		*why = explain("cannot create %s: %s", shown, strerror(errno));
		return ret;
	}
	fd = openat(atfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (!fstatat(atfd, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode)) {
			*why = explain("%s is a symlink", shown);
			return -ELOOP;
		}
		*why = explain("cannot open %s: %s", shown, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		*why = explain("cannot stat %s: %s", shown, strerror(errno));
		goto err;
	}
	if (st.st_uid != geteuid()) {
		ret = -EPERM;
		*why = explain("%s is owned by uid %u, not %u", shown, (unsigned)st.st_uid,
			       (unsigned)geteuid());
		goto err;
	}
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0) {
		ret = -errno;
		*why = explain("cannot set mode 0700 on %s: %s", shown, strerror(errno));
		goto err;
	}
	*out = fd;
	return 0;

err:
	close(fd);
	return ret;
}

static int sweep_one(int dirfd, const struct dirent *de, void *arg)
{
	(void)arg;
	if (is_tmp_name(de->d_name))
		unlinkat(dirfd, de->d_name, 0);
	return 0;
}

/*
 * Every handle holds a shared flock on the root for its lifetime. A handle that gets the lock
 * exclusively is the only one, so no write can be in flight: only then are temp files stale and
 * swept. (Children forked from a handle's owner share its lock through the open file.)
 */
static int lock_and_sweep(struct awg_store *s, const char *root, const char **why)
{
	if (!flock(s->rootfd, LOCK_EX | LOCK_NB)) {
		scan(s->rootfd, sweep_one, NULL);
		scan(s->dirfd, sweep_one, NULL);
	} else if (errno != EWOULDBLOCK) {
		*why = explain("cannot lock %s: %s", root, strerror(errno));
		return -errno;
	}
	while (flock(s->rootfd, LOCK_SH) < 0) {
		if (errno != EINTR) {
			*why = explain("cannot lock %s: %s", root, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Creates store.key with 32 fresh random bytes unless another opener just did. */
static int create_key(int rootfd)
{
	char tmp[TMP_NAME_LEN + 1];
	uint8_t key[AWG_CRYPTO_KEY_LEN];
	int ret;

	awg_random_bytes(key, sizeof(key));
	ret = tmp_write(rootfd, tmp, key, sizeof(key), 0400);
	awg_wipe(key, sizeof(key));
	if (ret)
		return ret;
	ret = tmp_commit(rootfd, tmp, KEY_FILE, false);
	return ret == -EEXIST ? 0 : ret;
}

static int load_key(struct awg_store *s, const char *root, const char **why)
{
	struct stat st;
	ssize_t got;
	int fd, ret;

	fd = openat(s->rootfd, KEY_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 && errno == ENOENT) {
		ret = create_key(s->rootfd);
		if (ret) {
			*why = explain("cannot create %s/" KEY_FILE ": %s", root, strerror(-ret));
			return ret;
		}
		fd = openat(s->rootfd, KEY_FILE,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	}
	if (fd < 0) {
		ret = -errno;
		if (ret == -ELOOP)
			*why = explain("%s/" KEY_FILE " is a symlink", root);
		else
			*why = explain("cannot open %s/" KEY_FILE ": %s", root, strerror(-ret));
		return ret;
	}
	ret = fstat(fd, &st) < 0 ? -errno : 0;
	if (!ret && !S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		*why = explain("%s/" KEY_FILE " is not a regular file", root);
	} else if (!ret && st.st_uid != geteuid()) {
		ret = -EPERM;
		*why = explain("%s/" KEY_FILE " is owned by uid %u, not %u", root,
			       (unsigned)st.st_uid, (unsigned)geteuid());
	} else if (!ret && st.st_size != AWG_CRYPTO_KEY_LEN) {
		/* Never replaced: a new key would make every stored config unreadable. */
		ret = -EINVAL;
		*why = explain("%s/" KEY_FILE " is not 32 bytes", root);
	} else if (!ret && (st.st_mode & 07777) != 0400 && fchmod(fd, 0400) < 0) {
		ret = -errno;
		*why = explain("cannot set mode 0400 on %s/" KEY_FILE ": %s", root,
			       strerror(errno));
	}
	if (ret)
		goto out;
	got = read_full(fd, s->key, sizeof(s->key));
	if (got != (ssize_t)sizeof(s->key)) {
		ret = got < 0 ? (int)got : -EINVAL;
		*why = explain("cannot read %s/" KEY_FILE, root);
		awg_wipe(s->key, sizeof(s->key));
	}
out:
	close(fd);
	return ret;
}

int awg_store_open(struct awg_store *s, const char *root, const char **why)
{
	char shown[PATH_MAX + 32];
	const char *w = NULL;
	int ret;

	s->rootfd = -1;
	s->dirfd = -1;
	awg_wipe(s->key, sizeof(s->key));
	if (!root)
		root = AWG_STORE_ROOT;
	snprintf(shown, sizeof(shown), "%s/" CONF_DIR, root);
	ret = open_dir(AT_FDCWD, root, root, &s->rootfd, &w);
	if (!ret)
		ret = open_dir(s->rootfd, CONF_DIR, shown, &s->dirfd, &w);
	if (!ret)
		ret = lock_and_sweep(s, root, &w);
	if (!ret)
		ret = load_key(s, root, &w);
	if (ret) {
		awg_store_close(s);
		if (why)
			*why = w;
	}
	return ret;
}

void awg_store_close(struct awg_store *s)
{
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->rootfd >= 0)
		close(s->rootfd);
	s->dirfd = -1;
	s->rootfd = -1;
	awg_wipe(s->key, sizeof(s->key));
}

/* --- find, save, load, delete, list --- */

struct find_ctx {
	const char *name;
	char *found;
	bool any;
};

static int find_one(int dirfd, const struct dirent *de, void *arg)
{
	struct find_ctx *f = arg;
	char base[AWG_STORE_NAME_MAX + 1];

	(void)dirfd;
	if (!stored_name(de->d_name, base) || strcasecmp(base, f->name))
		return 0;
	if (!f->any || !strcmp(base, f->name))
		memcpy(f->found, base, sizeof(base));
	f->any = true;
	/* An exact-case match ends the search; another spelling may still be followed by one. */
	return !strcmp(base, f->name);
}

int awg_store_find(const struct awg_store *s, const char *name, char found[AWG_STORE_NAME_MAX + 1])
{
	struct find_ctx f = { .name = name, .found = found };
	int ret;

	if (!awg_store_name_valid(name, NULL))
		return -EINVAL;
	ret = scan(s->dirfd, find_one, &f);
	if (ret < 0)
		return ret;
	return f.any ? 0 : -ENOENT;
}

/* -EEXIST if name exists in any case and !overwrite; else 0 and the stored spelling in old. */
static int clash(const struct awg_store *s, const char *name, bool overwrite,
		 char old[AWG_STORE_NAME_MAX + 1])
{
	int ret = awg_store_find(s, name, old);

	if (ret)
		old[0] = '\0';
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	return overwrite ? 0 : -EEXIST;
}

/* The associated data: the header followed by the tunnel name. Returns its length. */
static size_t make_ad(uint8_t ad[AD_MAX], const uint8_t header[HDR_LEN], const char *name)
{
	size_t n = strlen(name);

	memcpy(ad, header, HDR_LEN);
	memcpy(ad + HDR_LEN, name, n);
	return HDR_LEN + n;
}

/* out gets OVERHEAD + len bytes: header, fresh nonce, ciphertext and tag. */
static void seal(const struct awg_store *s, const char *name, const void *text, size_t len,
		 uint8_t *out)
{
	uint8_t ad[AD_MAX];
	size_t adlen = make_ad(ad, header_v1, name);

	memcpy(out, header_v1, HDR_LEN);
	awg_random_bytes(out + HDR_LEN, NONCE_LEN);
	awg_xaead_encrypt(out + BODY_OFF, text, len, ad, adlen, out + HDR_LEN, s->key);
}

/* plain gets len - OVERHEAD bytes. */
static int unseal(const struct awg_store *s, const char *name, const uint8_t *buf, size_t len,
		  uint8_t *plain)
{
	uint8_t ad[AD_MAX];
	size_t adlen;

	if (len < OVERHEAD || memcmp(buf, header_v1, HDR_LEN))
		return -EINVAL;
	adlen = make_ad(ad, buf, name);
	if (!awg_xaead_decrypt(plain, buf + BODY_OFF, len - BODY_OFF, ad, adlen, buf + HDR_LEN,
			       s->key))
		return -EBADMSG;
	return 0;
}

int awg_store_save(struct awg_store *s, const char *name, const char *text, size_t len,
		   bool overwrite)
{
	char file[ENC_NAME_MAX + 1], tmp[TMP_NAME_LEN + 1], old[AWG_STORE_NAME_MAX + 1];
	uint8_t *buf;
	int ret;

	if (!awg_store_name_valid(name, NULL))
		return -EINVAL;
	if (len > AWG_STORE_TEXT_MAX)
		return -EFBIG;
	ret = clash(s, name, overwrite, old);
	if (ret)
		return ret;
	buf = malloc(OVERHEAD + len);
	if (!buf)
		return -ENOMEM;
	seal(s, name, text, len, buf);
	ret = tmp_write(s->dirfd, tmp, buf, OVERHEAD + len, 0600);
	free(buf);
	if (ret)
		return ret;
	/* Writing took a while: check the case-insensitive clash again just before the rename. */
	ret = clash(s, name, overwrite, old);
	if (ret) {
		unlinkat(s->dirfd, tmp, 0);
		return ret;
	}
	enc_name(file, name);
	ret = tmp_commit(s->dirfd, tmp, file, overwrite);
	if (ret || !old[0] || !strcmp(old, name))
		return ret;
	/* Replaced across case: the new spelling is in place, so the old one can go. */
	enc_name(file, old);
	if (unlinkat(s->dirfd, file, 0) < 0 && errno != ENOENT)
		return -errno;
	return fsync(s->dirfd) < 0 ? -errno : 0;
}

int awg_store_load(const struct awg_store *s, const char *name, char **text, size_t *len)
{
	char file[ENC_NAME_MAX + 1];
	uint8_t *buf = NULL;
	char *plain = NULL;
	size_t size = 0;
	struct stat st;
	ssize_t got;
	int fd, ret;

	*text = NULL;
	*len = 0;
	if (!awg_store_name_valid(name, NULL))
		return -EINVAL;
	enc_name(file, name);
	/* O_NONBLOCK|O_NOCTTY: a FIFO or device under the name must not hang or affect us. */
	fd = openat(s->dirfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < OVERHEAD) {
		ret = -EINVAL;
		goto out;
	}
	if (st.st_size > OVERHEAD + AWG_STORE_TEXT_MAX) {
		ret = -EFBIG;
		goto out;
	}
	size = (size_t)st.st_size;
	buf = malloc(size);
	plain = malloc(size - OVERHEAD + 1);
	if (!buf || !plain) {
		ret = -ENOMEM;
		goto out;
	}
	got = read_full(fd, buf, size);
	if (got < 0 || (size_t)got != size) {
		ret = got < 0 ? (int)got : -EINVAL;	/* shrank under us: not a store file */
		goto out;
	}
	ret = unseal(s, name, buf, size, (uint8_t *)plain);
	if (ret)
		goto out;
	plain[size - OVERHEAD] = '\0';
	*text = plain;
	*len = size - OVERHEAD;
	plain = NULL;
out:
	if (plain) {
		awg_wipe(plain, size - OVERHEAD + 1);
		free(plain);
	}
	free(buf);
	close(fd);
	return ret;
}

int awg_store_delete(struct awg_store *s, const char *name)
{
	char file[ENC_NAME_MAX + 1];

	if (!awg_store_name_valid(name, NULL))
		return -EINVAL;
	enc_name(file, name);
	if (unlinkat(s->dirfd, file, 0) < 0)
		return -errno;
	return fsync(s->dirfd) < 0 ? -errno : 0;
}

struct list_ctx {
	char (*names)[AWG_STORE_NAME_MAX + 1];
	size_t n, cap;
};

static int list_one(int dirfd, const struct dirent *de, void *arg)
{
	struct list_ctx *l = arg;
	char base[AWG_STORE_NAME_MAX + 1];

	if (!stored_name(de->d_name, base) || entry_type(dirfd, de) != DT_REG)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *p = reallocarray(l->names, cap, sizeof(*l->names));

		if (!p)
			return -ENOMEM;
		l->names = p;
		l->cap = cap;
	}
	memcpy(l->names[l->n++], base, sizeof(base));
	return 0;
}

int awg_store_list(const struct awg_store *s, char (**names)[AWG_STORE_NAME_MAX + 1], size_t *n)
{
	struct list_ctx l = { 0 };
	int ret = scan(s->dirfd, list_one, &l);

	*names = NULL;
	*n = 0;
	if (ret < 0) {
		free(l.names);
		return ret;
	}
	if (l.n)
		qsort(l.names, l.n, sizeof(*l.names), name_cmp);
	*names = l.names;
	*n = l.n;
	return 0;
}

/* --- ingestion of plaintext drop-ins --- */

struct ingest_cb {
	int (*canon)(void *ctx, const char *name, const char *text, size_t len, char **out,
		     size_t *outlen, char *why, size_t whylen);
	void (*report)(void *ctx, const char *name, const char *reason);
	void *ctx;
};

struct dropins {
	char (*entries)[NAME_MAX + 1];
	size_t n, cap;
};

/* Collected first: ingesting renames and creates entries, which a live readdir may revisit. */
static int collect_one(int dirfd, const struct dirent *de, void *arg)
{
	struct dropins *d = arg;
	char base[NAME_MAX + 1];

	(void)dirfd;
	if (!split_name(de->d_name, SUFFIX_CONF, base, sizeof(base)))
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 8;
		void *p = reallocarray(d->entries, cap, sizeof(*d->entries));

		if (!p)
			return -ENOMEM;
		d->entries = p;
		d->cap = cap;
	}
	snprintf(d->entries[d->n++], NAME_MAX + 1, "%s", de->d_name);
	return 0;
}

/*
 * Reads a drop-in. Returns 0 with an owned NUL-terminated *text, 1 to skip it for now (a
 * directory, an empty file, gone), -EINVAL/-ELOOP/-EFBIG with *reason to reject it, or another
 * -errno (a system failure: retry later).
 */
static int read_dropin(int dirfd, const char *entry, char **text, size_t *len,
		       const char **reason)
{
	struct stat st;
	ssize_t got;
	int fd, ret = 0;

	fd = openat(dirfd, entry, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		if (errno == ELOOP)
			*reason = "it is a symlink (never followed)";
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && !st.st_size)) {
		ret = 1;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*reason = "it is not a regular file";
		ret = -EINVAL;
		goto out;
	}
	if (st.st_size > AWG_STORE_TEXT_MAX) {
		*reason = "it is larger than 512 KiB";
		ret = -EFBIG;
		goto out;
	}
	*text = malloc((size_t)st.st_size + 1);
	if (!*text) {
		ret = -ENOMEM;
		goto out;
	}
	got = read_full(fd, *text, (size_t)st.st_size);
	if (got < 0) {
		ret = (int)got;
		awg_wipe(*text, (size_t)st.st_size + 1);
		free(*text);
		*text = NULL;
		goto out;
	}
	(*text)[got] = '\0';
	*len = (size_t)got;
out:
	close(fd);
	return ret;
}

/* Reports the failure and moves the drop-in aside as <entry>.rejected. */
static void reject(struct awg_store *s, const struct ingest_cb *cb, const char *entry,
		   const char *name, const char *reason)
{
	char aside[NAME_MAX + sizeof(SUFFIX_REJECTED)];

	cb->report(cb->ctx, name, reason);
	snprintf(aside, sizeof(aside), "%s" SUFFIX_REJECTED, entry);
	if (strlen(entry) + strlen(SUFFIX_REJECTED) > NAME_MAX ||
	    renameat(s->dirfd, entry, s->dirfd, aside) < 0)
		cb->report(cb->ctx, name, "cannot rename it to <name>.conf.rejected");
}

/* Returns 1 if ingested, 0 if skipped or rejected, -errno if the system failed (file kept). */
static int ingest_one(struct awg_store *s, const struct ingest_cb *cb, const char *entry)
{
	char name[NAME_MAX + 1], why[256] = "", reason[320];
	const char *rule = NULL, *fixed = NULL;
	char *text = NULL, *out = NULL;
	size_t len = 0, outlen = 0;
	int ret;

	split_name(entry, SUFFIX_CONF, name, sizeof(name));
	ret = read_dropin(s->dirfd, entry, &text, &len, &fixed);
	if (ret == 1)
		return 0;
	if (ret == -EINVAL || ret == -ELOOP || ret == -EFBIG) {
		reject(s, cb, entry, name, fixed ? fixed : "it cannot be read");
		return 0;
	}
	if (ret)
		goto sys;
	if (!awg_store_name_valid(name, &rule)) {
		snprintf(reason, sizeof(reason), "invalid tunnel name: %s", rule);
		reject(s, cb, entry, name, reason);
		goto out;
	}
	ret = cb->canon(cb->ctx, name, text, len, &out, &outlen, why, sizeof(why));
	if (ret && ret != -EINVAL)
		goto sys;
	if (ret) {
		snprintf(reason, sizeof(reason), "invalid configuration: %s",
			 why[0] ? why : "rejected by the parser");
		reject(s, cb, entry, name, reason);
		ret = 0;
		goto out;
	}
	ret = awg_store_save(s, name, out, outlen, false);
	if (ret == -EEXIST || ret == -EFBIG || ret == -EINVAL) {
		reject(s, cb, entry, name,
		       ret == -EEXIST ? "a tunnel with this name (in any case) already exists" :
		       "the canonical configuration cannot be stored");
		ret = 0;
		goto out;
	}
	if (ret)
		goto sys;
	if (unlinkat(s->dirfd, entry, 0) < 0) {
		ret = -errno;
		goto sys;
	}
	ret = 1;
	goto out;
sys:
	snprintf(reason, sizeof(reason), "cannot ingest it now: %s", strerror(-ret));
	cb->report(cb->ctx, name, reason);
out:
	if (text) {
		awg_wipe(text, len + 1);
		free(text);
	}
	if (out) {
		awg_wipe(out, outlen);
		free(out);
	}
	return ret;
}

int awg_store_ingest(struct awg_store *s,
		     int (*canon)(void *ctx, const char *name, const char *text, size_t len,
				  char **out, size_t *outlen, char *why, size_t whylen),
		     void (*report)(void *ctx, const char *name, const char *reason), void *ctx)
{
	const struct ingest_cb cb = { .canon = canon, .report = report, .ctx = ctx };
	struct dropins d = { 0 };
	int ret, count = 0;

	ret = scan(s->dirfd, collect_one, &d);
	for (size_t i = 0; !ret && i < d.n; i++)
		if (ingest_one(s, &cb, d.entries[i]) == 1)
			count++;
	free(d.entries);
	return ret < 0 ? ret : count;
}

/* --- change notification --- */

int awg_store_watch(const struct awg_store *s)
{
	char path[32];
	int fd, ret;

	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Through the fd we hold: the watch is on the directory we checked, not on a path. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->dirfd);
	if (inotify_add_watch(fd, path, WATCH_MASK | IN_ONLYDIR) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

bool awg_store_watch_drain(int fd)
{
	char buf[4096];
	bool changed = false;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		struct inotify_event ev;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* memcpy: the event headers in buf are not necessarily aligned for us. */
		for (size_t off = 0; off + sizeof(ev) <= (size_t)n; off += sizeof(ev) + ev.len) {
			memcpy(&ev, buf + off, sizeof(ev));
			/* No name: the directory itself, or IN_Q_OVERFLOW; rescan to be safe. */
			if (!ev.len || strnlen(buf + off + sizeof(ev), ev.len) != TMP_NAME_LEN ||
			    !is_tmp_name(buf + off + sizeof(ev)))
				changed = true;
		}
	}
	return changed;
}
