/* SPDX-License-Identifier: MIT */
/*
 * awgctl's output helpers: JSON string escaping, and the "awg show" texts for handshake ages,
 * byte counts and durations. Pure functions on buffers and FILEs, unit-tested on their own.
 */
#ifndef _AWG_CTL_FORMAT_H
#define _AWG_CTL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Writes s as a JSON string with its quotes: '"' and '\\' escaped, control characters
 * (0x00-0x1f, 0x7f) as \uXXXX (\n, \t etc. included, so one record stays on one line), and any
 * byte that is not part of valid UTF-8 as \ufffd, so the output is always valid JSON.
 */
void awg_json_string(FILE *f, const char *s);

/* "1 hour, 2 minutes, 3 seconds"; "0 seconds" for 0. Returns the length (truncated to size-1). */
size_t awg_ctl_format_duration(char *buf, size_t size, uint64_t secs);

/*
 * The age of a handshake at sec (Unix seconds) seen at now: "never" for 0, "Now", "N minutes,
 * M seconds ago", or a note that the clock went backward.
 */
size_t awg_ctl_format_ago(char *buf, size_t size, int64_t now, int64_t sec);

/* "512 B", "4.50 KiB", "1.23 MiB" ... "TiB", as awg show prints transfer. */
size_t awg_ctl_format_bytes(char *buf, size_t size, uint64_t bytes);

/*
 * A redacted peer key (first 8 bytes the peer index little-endian, the other 24 zero): true
 * and *index set. A real X25519 public key never has 24 zero bytes in a row.
 */
bool awg_ctl_placeholder_index(const uint8_t key[32], uint64_t *index);

/*
 * Replaces control characters (0x00-0x1f, 0x7f) in s with '?', in place: text from the
 * manager goes to a terminal, where an escape sequence could rewrite what the user sees.
 */
void awg_ctl_printable(char *s);

#endif /* _AWG_CTL_FORMAT_H */
