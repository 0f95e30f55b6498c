/* SPDX-License-Identifier: MIT */
/*
 * The signed update list: signify (Ed25519) key and embedded-message verification, the
 * `b2sum -l 256` list inside it, dotted version comparison, and picking this machine's newer
 * package. Pure parsing and verification: no I/O, the only syscall is uname(2) in awg_upd_arch.
 *
 * Every function returning int returns 0 or -errno. Those taking `why` set *why on failure to a
 * human-readable sentence (never NULL, never containing secret material) and leave it
 * untouched on success. `why` may be NULL when the caller does not want the sentence. A sentence
 * that quotes values (a line number, key ids, versions) lives in a thread-local buffer that the
 * next failing call on the same thread overwrites; copy it if it must outlive that.
 */
#ifndef _AWG_UPDLIST_H
#define _AWG_UPDLIST_H

#include <stddef.h>
#include <stdint.h>

#define AWG_UPD_LIST_MAX (512u << 10)	/* a signed list larger than this is refused */
#define AWG_UPD_VERSION_MAX 128		/* longest version string awg_upd_pick accepts */
#define AWG_UPD_FILE_MAX 255		/* longest file name in a list entry */

/* A signify Ed25519 public key: its 8-byte key number and the 32-byte Ed25519 key. */
struct awg_upd_pubkey {
	uint8_t keynum[8];
	uint8_t key[32];
};

/*
 * Parses a signify public key: either the bare base64 line ("RWS...", 56 chars, an optional
 * final newline) or the whole .pub file ("untrusted comment: ...\n<base64>\n"). The base64 must
 * decode to exactly 42 bytes starting with "Ed". Returns 0, or -EINVAL with *why set.
 */
int awg_upd_pubkey_parse(struct awg_upd_pubkey *pk, const char *text, size_t len,
			 const char **why);

/* One list line: the BLAKE2b-256 hash of the file and its bare name (NUL-terminated). */
struct awg_upd_entry {
	uint8_t hash[32];
	char file[AWG_UPD_FILE_MAX + 1];
};

/* A parsed list: v[0..n-1] in the order of the signed text. Owned; free with awg_upd_list_free. */
struct awg_upd_list {
	struct awg_upd_entry *v;
	size_t n;
};

/*
 * Verifies a `signify -S -e` file against pk and parses the embedded list into *out.
 * Line 1 must be "untrusted comment: ...", line 2 the base64 of 74 bytes: "Ed" + keynum +
 * 64-byte Ed25519 signature; everything after the second newline is the message. The keynum
 * is compared with pk's BEFORE the signature is checked ("signed with another key (key id X,
 * expected Y)"), then the signature is verified over exactly the message bytes, and only then
 * is the message parsed with awg_upd_list_parse.
 * Returns 0 (*out owned by the caller), -E2BIG (len > AWG_UPD_LIST_MAX), -EINVAL (malformed
 * envelope or list), -EBADMSG (wrong key or invalid signature) or -ENOMEM; *out is left empty
 * ({NULL, 0}) on failure.
 */
int awg_upd_list_verify(struct awg_upd_list *out, const struct awg_upd_pubkey *pk,
			const char *signed_text, size_t len, const char **why);

/*
 * Parses the message: `b2sum -l 256` lines, "<64 lowercase hex>  <file>\n" (two spaces), the
 * final newline optional, at least one entry, file names of [A-Za-z0-9._+-] only (no '/', no
 * leading '.'), at most AWG_UPD_FILE_MAX chars, no duplicates. Strict: anything else (empty
 * lines, CR, uppercase hex, trailing junk) is -EINVAL with *why set. -E2BIG when len exceeds
 * AWG_UPD_LIST_MAX, -ENOMEM on allocation failure. *out is left empty on failure.
 */
int awg_upd_list_parse(struct awg_upd_list *out, const char *msg, size_t len, const char **why);

/* Frees l->v and empties *l. Safe on an empty or already freed list. */
void awg_upd_list_free(struct awg_upd_list *l);

/*
 * Compares dotted decimal versions: each part a non-empty decimal fitting uint16, at most 8
 * parts, missing parts count as 0 ("0.1" == "0.1.0"). *cmp gets <0, 0 or >0 (a vs b).
 * Returns 0, or -EINVAL when either string is malformed (*cmp untouched).
 */
int awg_upd_version_cmp(const char *a, const char *b, int *cmp);

/*
 * Debian's architecture name for this machine, from uname(2)'s machine field: x86_64 -> amd64,
 * aarch64 -> arm64, armv7l/armv6l -> armhf, i386..i686 -> i386; others as uname says.
 * Returns a pointer to static storage (stable after the first call; not thread-safe on the
 * very first call), or "unknown" if uname fails.
 */
const char *awg_upd_arch(void);

/*
 * Picks the first entry named "awg-suite-<arch>-<version>.<ext>" (ext without the dot, e.g.
 * "deb") whose version is greater than installed. Entries of other arches or exts are skipped;
 * a malformed version (or one longer than AWG_UPD_VERSION_MAX) in a matching name is -EINVAL.
 * On success *out borrows from l and version receives the picked version (NUL-terminated).
 * -ENOENT with *why "no newer version (installed X, newest listed Y)" when none is newer
 * (no downgrade, no reinstall); -EINVAL when installed, arch or ext is malformed.
 */
int awg_upd_pick(const struct awg_upd_list *l, const char *arch, const char *ext,
		 const char *installed, const struct awg_upd_entry **out,
		 char version[AWG_UPD_VERSION_MAX + 1], const char **why);

#endif /* _AWG_UPDLIST_H */
