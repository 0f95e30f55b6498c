// SPDX-License-Identifier: MIT
// Terminal output of awg(8): ANSI colours on a terminal or with WG_COLOR_MODE=always.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "awg.h"

static bool color_mode(void)
{
	static int mode = -1;
	const char *env;

	if (mode >= 0)
		return mode;
	env = getenv("WG_COLOR_MODE");
	if (env && !strcmp(env, "always"))
		mode = 1;
	else if (env && !strcmp(env, "never"))
		mode = 0;
	else
		mode = isatty(fileno(stdout)) ? 1 : 0;
	return mode;
}

/* Writes s to stdout without its CSI escape sequences (ESC '[' ... final byte). */
static void put_filtered(const char *s)
{
	while (*s) {
		if (s[0] == '\x1b' && s[1] == '[') {
			s += 2;
			while (*s && !(*s >= 0x40 && *s <= 0x7e))
				s++;
			if (*s)
				s++;
			continue;
		}
		putchar(*s++);
	}
}

void awg_terminal_printf(const char *fmt, ...)
{
	char *buf = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (color_mode())
		fputs(buf, stdout);
	else
		put_filtered(buf);
	free(buf);
}
