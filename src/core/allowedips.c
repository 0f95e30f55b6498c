// SPDX-License-Identifier: MIT
/* placeholder: allowedips.c is being written */
