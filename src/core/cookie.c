// SPDX-License-Identifier: MIT
/* placeholder: cookie.c is being written */
