/* SPDX-License-Identifier: MIT */
/*
 * The encrypted configuration store of awg-manager: tunnel configs at rest under
 * <root>/configurations/<name>.conf.enc, sealed with a machine key in <root>/store.key
 * (the Linux counterpart of the Windows DPAPI store, windows-reference.md 3.1-3.5 and 10.3).
 *
 * Layout (every access is an *at() call relative to the two directory fds, O_NOFOLLOW):
 *
 *   <root>/                      0700, owned by the effective uid
 *   <root>/store.key             0400, exactly 32 random bytes (the AEAD key)
 *   <root>/configurations/       0700, owned by the effective uid
 *   <root>/configurations/<name>.conf.enc        0600, one sealed tunnel config
 *   <root>/configurations/<name>.conf            plaintext drop-in, see awg_store_ingest()
 *   <root>/configurations/<name>.conf.rejected   a drop-in that could not be ingested
 *   <64 lower-case hex>.tmp (in either directory) a write in progress; stale ones are
 *                                removed by awg_store_open()
 *
 * File format of <name>.conf.enc:
 *
 *   offset  size  field
 *        0     4  magic "AWGS"
 *        4     1  version, 1
 *        5     3  zero
 *        8    24  random XChaCha20 nonce
 *       32   n+16 XChaCha20-Poly1305(key, nonce, plaintext of n bytes) with its 16-byte tag
 *
 * The associated data is the 8 header bytes followed by the tunnel name bytes (as spelled in
 * the file name). A file copied or renamed to another tunnel's name, tampered with, or sealed
 * under another key fails to open with -EBADMSG: the DPAPI description binding, made part of
 * the authentication instead of a separate comparison.
 *
 * Names: the store is case-preserving but case-insensitive for clashes (as on Windows), so
 * "Office" and "office" cannot both exist through this API. awg_store_load/delete take the
 * stored spelling; awg_store_find maps any spelling to it.
 *
 * Threads: a struct awg_store has no lock. The functions taking a const store only read the
 * directory and may run concurrently with each other; save, delete and ingest must not run
 * concurrently with anything else on the same store (the manager calls them from its one loop).
 *
 * All int functions return 0 (or a count) on success and -errno on failure.
 */
#ifndef _AWG_STORE_H
#define _AWG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AWG_STORE_ROOT "/var/lib/awg-suite"	/* default root; configurations/ below it */
#define AWG_STORE_NAME_MAX 32
#define AWG_STORE_TEXT_MAX (512u << 10)		/* largest plaintext config */

struct awg_store {
	int rootfd;		/* the root directory, O_DIRECTORY|O_NOFOLLOW */
	int dirfd;		/* root/configurations */
	uint8_t key[32];	/* secret: wiped by awg_store_close */
};

/*
 * The name rules of windows-reference 3.2 (WireGuard's variant): ^[a-zA-Z0-9_=+.-]{1,32}$,
 * not starting or ending with '.', not a reserved DOS name (CON PRN AUX NUL COM1-9 LPT1-9, any
 * case, compared on the part before the first dot, so "con.foo" is reserved). Returns true if
 * name is valid; otherwise false and, if why is not NULL, *why = a static sentence naming the
 * rule that failed.
 */
bool awg_store_name_valid(const char *name, const char **why);

/*
 * Opens the store at root (NULL = AWG_STORE_ROOT): creates or hardens root (0700) and
 * root/configurations (0700) - each must be a real directory (a symlink is refused) owned by the
 * effective uid, a wrong mode is fixed with fchmod - and loads root/store.key, creating it with
 * 32 random bytes (0400) if it does not exist. An existing key must be a regular file of exactly
 * 32 bytes owned by us; it is never replaced (that would lose every stored config).
 * Stale <64 hex>.tmp files in both directories are removed, but only when no other handle on
 * this store is open (an flock on the root: a running writer's temp file is never taken away).
 * Returns 0, or -errno with *why set (if why is not NULL) to a sentence such as
 * "/var/lib/awg-suite/configurations is a symlink"; *why points to thread-local storage valid
 * until the next awg_store_open() in this thread. On failure *s holds no fd and no key, and
 * awg_store_close(s) is harmless.
 */
int awg_store_open(struct awg_store *s, const char *root, const char **why);

/* Closes both fds (and so the flock) and wipes the key. Safe to call twice. */
void awg_store_close(struct awg_store *s);

/*
 * Case-insensitive lookup of name among the stored <name>.conf.enc entries. Returns 0 and the
 * stored spelling in found (an exact-case match wins if several spellings exist), -ENOENT,
 * -EINVAL for an invalid name, or another -errno if the directory cannot be read.
 */
int awg_store_find(const struct awg_store *s, const char *name, char found[AWG_STORE_NAME_MAX + 1]);

/*
 * Seals text (len bytes, at most AWG_STORE_TEXT_MAX, else -EFBIG) under name and writes it
 * atomically: a random <64 hex>.tmp (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), written, fsync'ed and
 * renamed into place, then the directory fsync'ed; a crash leaves the old or the new file,
 * never a mix. overwrite=false: -EEXIST if the name exists in any case (checked before writing
 * and again just before the rename, which itself uses RENAME_NOREPLACE). overwrite=true
 * replaces it, also when the stored spelling differs in case: the new spelling is renamed into
 * place first and the old file is unlinked after. -EINVAL for an invalid name.
 * The caller keeps ownership of text (and wipes it).
 */
int awg_store_save(struct awg_store *s, const char *name, const char *text, size_t len,
		   bool overwrite);

/*
 * Reads and opens <name>.conf.enc (name as stored; see awg_store_find). On success *text is an
 * owned, NUL-terminated buffer of *len bytes (plus the NUL): the caller wipes it (awg_wipe) and
 * frees it. Errors: -ENOENT; -EBADMSG (authentication failed: tampered, renamed from another
 * tunnel, sealed under another key); -EINVAL (invalid name, not a regular file, too short, bad
 * magic/version/reserved bytes); -ELOOP (a symlink: never followed); -EFBIG (larger than any
 * store file can be); other -errno from the file system.
 */
int awg_store_load(const struct awg_store *s, const char *name, char **text, size_t *len);

/*
 * Unlinks <name>.conf.enc (name as stored) and fsyncs the directory. A symlink is removed,
 * never followed. -ENOENT if there is none, -EINVAL for an invalid name.
 */
int awg_store_delete(struct awg_store *s, const char *name);

/*
 * The stored names: valid names of regular *.conf.enc files (symlinks, directories and junk are
 * skipped), sorted naturally (digit runs by value, otherwise case-insensitive; ties broken
 * bytewise so the order is total). On success *names is an owned array of *n names (NULL when
 * *n is 0): free() it.
 */
int awg_store_list(const struct awg_store *s, char (**names)[AWG_STORE_NAME_MAX + 1], size_t *n);

/*
 * Ingests plaintext drop-ins (the "copy .conf files into the directory" deployment). For each
 * <name>.conf in configurations/:
 *  - a directory is ignored; an empty regular file is skipped (its writer has most likely just
 *    created it; the IN_CLOSE_WRITE that follows triggers the next scan). Writers should still
 *    write elsewhere and rename into the directory, so a scan never sees half a file;
 *  - it is read (O_NOFOLLOW, at most AWG_STORE_TEXT_MAX bytes) and passed, NUL-terminated, to
 *    canon(ctx, name, text, len, &out, &outlen, why, whylen), which validates it and returns 0
 *    with the canonical text to store in out (owned: wiped and freed here), or -EINVAL with a
 *    reason in why (any other -errno from canon counts as a system failure, see below);
 *  - the result is saved without overwrite and the plaintext is unlinked; all buffers holding
 *    plaintext are wiped.
 * If the file cannot be ingested (invalid name, symlink, not a regular file, too large,
 * rejected by canon, name already taken in any case) report(ctx, name, reason) is called and
 * the file is renamed to <name>.conf.rejected so it is not retried forever. A failure of the
 * system (out of memory, I/O error, disk full) is reported the same way but the file is left in
 * place, to be retried. Returns the number of configs ingested, or -errno if the directory could
 * not be scanned.
 */
int awg_store_ingest(struct awg_store *s,
		     int (*canon)(void *ctx, const char *name, const char *text, size_t len,
				  char **out, size_t *outlen, char *why, size_t whylen),
		     void (*report)(void *ctx, const char *name, const char *reason), void *ctx);

/*
 * Returns an inotify fd (O_NONBLOCK|O_CLOEXEC) watching configurations/ (the directory the
 * store holds open, through /proc/self/fd, never by path) for IN_CLOSE_WRITE|IN_MOVED_TO|
 * IN_MOVED_FROM|IN_CREATE|IN_DELETE|IN_ATTRIB, or -errno. The caller owns and closes it.
 */
int awg_store_watch(const struct awg_store *s);

/*
 * Reads every pending event from the inotify fd of awg_store_watch(). Returns true when
 * anything other than the store's own <64 hex>.tmp files changed (including a queue overflow or
 * the directory itself going away): the caller then rescans (list, ingest).
 */
bool awg_store_watch_drain(int fd);

#endif /* _AWG_STORE_H */
