// SPDX-License-Identifier: MIT
/* placeholder: counter.c is being written */
