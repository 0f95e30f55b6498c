// SPDX-License-Identifier: MIT
/* Owns awgd's log level and line format. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum awg_log_level level = AWG_LOG_ERROR;
static char prefix[64] = "awgd";

void awg_log_init(const char *ifname)
{
	const char *env = getenv("LOG_LEVEL");

	snprintf(prefix, sizeof(prefix), "awgd(%s)", ifname);
	if (!env)
		return;
	if (!strcmp(env, "verbose") || !strcmp(env, "debug"))
		level = AWG_LOG_VERBOSE;
	else if (!strcmp(env, "silent"))
		level = AWG_LOG_SILENT;
	else
		level = AWG_LOG_ERROR;
}

void awg_log_set_level(enum awg_log_level l)
{
	level = l;
}

enum awg_log_level awg_log_level(void)
{
	return level;
}

void awg_log(enum awg_log_level l, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	va_list ap;

	if (l > level || l == AWG_LOG_SILENT)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	flockfile(stderr);
	fprintf(stderr, "%s.%03ldZ %s: %s", when, ts.tv_nsec / 1000000, prefix,
		l == AWG_LOG_ERROR ? "ERROR: " : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}
