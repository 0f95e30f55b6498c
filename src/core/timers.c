// SPDX-License-Identifier: MIT
/* placeholder: timers.c is being written */
