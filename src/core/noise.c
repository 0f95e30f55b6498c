// SPDX-License-Identifier: MIT
/* placeholder: noise.c is being written */
