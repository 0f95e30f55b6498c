/* SPDX-License-Identifier: MIT */
/* The real struct awg_env of a process: kernel clocks and the libsodium CSPRNG. */
#ifndef _AWG_SYSENV_H
#define _AWG_SYSENV_H

#include "env.h"

/* Returns the process-wide environment (borrowed, immutable, thread-safe). */
const struct awg_env *awg_sysenv(void);

#endif /* _AWG_SYSENV_H */
