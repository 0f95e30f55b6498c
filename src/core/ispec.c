// SPDX-License-Identifier: MIT
/* placeholder: ispec.c is being written */
