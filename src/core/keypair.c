// SPDX-License-Identifier: MIT
/* placeholder: keypair.c is being written */
