// SPDX-License-Identifier: MIT
/* placeholder: obfs.c is being written */
