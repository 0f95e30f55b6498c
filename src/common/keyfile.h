/* SPDX-License-Identifier: MIT */
/* The "Key = Value" files under /etc/awg-suite (policy.conf, updates.conf): one reader. */
#ifndef _AWG_KEYFILE_H
#define _AWG_KEYFILE_H

#include <stddef.h>

/*
 * Calls fn for each "Key = Value" line of path (key and value trimmed; '#' starts a comment;
 * blank lines skipped), stopping at the first line fn refuses (non-zero, with *why set).
 * Returns 0; -ENOENT or another -errno when the file cannot be opened; -EINVAL with why as
 * "path:line: message" for a line without '=', a line longer than 1 KiB, or a refusal.
 */
int awg_keyfile_read(const char *path,
		     int (*fn)(void *ctx, const char *key, const char *value, const char **why),
		     void *ctx, char *why, size_t whylen);

#endif /* _AWG_KEYFILE_H */
