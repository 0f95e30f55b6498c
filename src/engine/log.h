/* SPDX-License-Identifier: MIT */
/* awgd's log: levels as amneziawg-go's LOG_LEVEL, lines on stderr. Never log a secret. */
#ifndef _AWG_ENGINE_LOG_H
#define _AWG_ENGINE_LOG_H

enum awg_log_level {
	AWG_LOG_SILENT = 0,
	AWG_LOG_ERROR = 1,
	AWG_LOG_VERBOSE = 2,
};

/* Reads LOG_LEVEL (verbose/debug, error, silent; default error) and sets the line prefix. */
void awg_log_init(const char *ifname);
void awg_log_set_level(enum awg_log_level level);
enum awg_log_level awg_log_level(void);

__attribute__((format(printf, 2, 3)))
void awg_log(enum awg_log_level level, const char *fmt, ...);

#define awg_err(...) awg_log(AWG_LOG_ERROR, __VA_ARGS__)
#define awg_info(...) awg_log(AWG_LOG_VERBOSE, __VA_ARGS__)

#endif /* _AWG_ENGINE_LOG_H */
