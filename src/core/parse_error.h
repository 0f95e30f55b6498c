/* SPDX-License-Identifier: MIT */
/*
 * The error report every parser of outside input fills instead of printing, so parsers stay
 * silent and fuzzable. Messages quote the offending text (bounded) and never contain secrets.
 */
#ifndef _AWG_PARSE_ERROR_H
#define _AWG_PARSE_ERROR_H

#include <stdarg.h>
#include <stdio.h>

struct awg_parse_error {
	unsigned line;		/* 1-based; 0 = not tied to a line */
	unsigned column;	/* 1-based; 0 = unknown */
	char msg[256];		/* human-readable, NUL-terminated */
};

/* Fills err (if not NULL) and returns -EINVAL-style code passed in, for one-line error exits. */
__attribute__((format(printf, 5, 6)))
static inline int awg_parse_error_set(struct awg_parse_error *err, int code, unsigned line,
				       unsigned column, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->line = line;
	err->column = column;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

#endif /* _AWG_PARSE_ERROR_H */
