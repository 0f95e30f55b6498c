// SPDX-License-Identifier: MIT
/* placeholder: ratelimiter.c is being written */
