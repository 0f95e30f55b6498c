/* SPDX-License-Identifier: MIT */
/* The "Key = Value" files under /etc/awg-suite (policy.conf, updates.conf): one reader. */
#ifndef _AWG_KEYFILE_H
#define _AWG_KEYFILE_H

#include <stddef.h>

#define AWG_KEYFILE_LINE_MAX 1024
#define AWG_KEYFILE_MAX (64u << 10)	/* a larger file is refused */

/*
 * Calls fn for each "Key = Value" line of text (key and value trimmed; '#' starts a comment;
 * blank lines skipped; CR LF accepted), stopping at the first line fn refuses (non-zero, with
 * *why set). Returns 0, or -EINVAL with why as "label:line: message" for a line without '=', a
 * line longer than AWG_KEYFILE_LINE_MAX, a NUL byte, or a refusal. The file variant also
 * returns -ENOENT or another -errno when the file cannot be opened.
 */
int awg_keyfile_parse(const char *text, size_t len, const char *label,
		      int (*fn)(void *ctx, const char *key, const char *value, const char **why),
		      void *ctx, char *why, size_t whylen);
/* The same for the file at path (at most AWG_KEYFILE_MAX bytes); label = path. */
int awg_keyfile_read(const char *path,
		     int (*fn)(void *ctx, const char *key, const char *value, const char **why),
		     void *ctx, char *why, size_t whylen);

#endif /* _AWG_KEYFILE_H */
