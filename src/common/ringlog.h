/* SPDX-License-Identifier: MIT */
/*
 * The shared ring log: one memory-mapped file (log.bin) that the manager and every tunnel
 * process write and clients read through a read-only descriptor.
 *
 * Layout (little-endian on every machine, so a copied file reads anywhere; the layout of
 * windows-reference.md section 2.10):
 *   offset 0   u32 magic = AWG_RINGLOG_MAGIC
 *   offset 4   u32 next_index   incremented atomically by writers; slot = index % LINES
 *   offset 8   AWG_RINGLOG_LINES slots of AWG_RINGLOG_SLOT bytes:
 *                i64 time_ns (Unix ns; 0 = empty, < 0 = being written), char text[512] (NUL-ended)
 * A writer takes the time, claims an index with an atomic add on next_index, takes its slot by
 * swapping time_ns to -(index + 1) (unpublish; a slot that a writer of an older index still
 * fills is left to it and the line dropped, so two writers never copy into one slot), writes
 * the text with its first byte last, then swaps time_ns to the time with release order
 * (publish). Readers skip slots whose time is 0 or negative or whose text starts with NUL.
 *
 * Text is "[TAG] [prefix] message"; a writer trims the message, caps it to 511 bytes and
 * replaces anything that looks like a WireGuard key (44 base64 characters ending in '=') with
 * "(key hidden)", so a script or a peer printing a key cannot put it into a log that operators
 * read.
 */
#ifndef _AWG_RINGLOG_H
#define _AWG_RINGLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AWG_RINGLOG_MAGIC	0x0BADBABEu
#define AWG_RINGLOG_LINES	2048u
#define AWG_RINGLOG_TEXT	512u
#define AWG_RINGLOG_SLOT	(8u + AWG_RINGLOG_TEXT)
#define AWG_RINGLOG_SIZE	(8u + AWG_RINGLOG_LINES * AWG_RINGLOG_SLOT)	/* 1,064,968 */
/* A cursor that means "everything currently in the log". */
#define AWG_RINGLOG_CURSOR_ALL	0xFFFFFFFFu

struct awg_ringlog {
	uint8_t *map;			/* AWG_RINGLOG_SIZE bytes, shared */
	bool writable;
	char tag[9];			/* "[MGR] " etc.: at most 5 tag characters, brackets, space, NUL */
	char prefix[48];		/* "[name] " or empty */
	bool mirror;			/* also print each line to stderr */
};

/*
 * Opens (creating it 0600 when missing) the log file at path relative to dirfd (AT_FDCWD for
 * an absolute or working-directory path), without following a symlink in the last component,
 * sizes it to AWG_RINGLOG_SIZE, maps it shared and initialises it when the magic is wrong.
 * tag: "MGR", "TUN", ... Returns 0 or -errno.
 */
int awg_ringlog_open(struct awg_ringlog *r, int dirfd, const char *path, const char *tag);

/*
 * Maps an already open descriptor: read-only when writable is false (the client side of
 * LogFd; the mapping is PROT_READ so the process cannot write it), otherwise as
 * awg_ringlog_open. The fd may be closed afterwards. 0, -EINVAL (wrong size or magic on a
 * read-only map) or -errno.
 */
int awg_ringlog_open_fd(struct awg_ringlog *r, int fd, bool writable, const char *tag);

void awg_ringlog_close(struct awg_ringlog *r);

/* Sets the per-process prefix written after the tag, e.g. the tunnel name; NULL clears it. */
void awg_ringlog_set_prefix(struct awg_ringlog *r, const char *prefix);

/* Appends one line (see the header comment for filtering). No-op on a read-only log. */
void awg_ringlog_write(struct awg_ringlog *r, const char *msg);
__attribute__((format(printf, 2, 3)))
void awg_ringlog_printf(struct awg_ringlog *r, const char *fmt, ...);

/*
 * Calls fn for each published line after *cursor, oldest first, and advances *cursor (the
 * index of the next line to read). *cursor == AWG_RINGLOG_CURSOR_ALL starts with the oldest
 * line present, as does a cursor the writers lapped. Returns the number of lines delivered.
 */
size_t awg_ringlog_follow(const struct awg_ringlog *r, uint32_t *cursor,
			  void (*fn)(void *ctx, int64_t time_ns, const char *text), void *ctx);

/*
 * Formats one line as the dump does: "YYYY-MM-DD HH:MM:SS.ffffff: text" in local time. Returns
 * the length written (truncated to size - 1).
 */
size_t awg_ringlog_format(char *buf, size_t size, int64_t time_ns, const char *text);

#endif /* _AWG_RINGLOG_H */
