// SPDX-License-Identifier: MIT
/* libFuzzer: the Key = Value reader of policy.conf and updates.conf. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Accepts a few keys, refuses others, and checks what it is given is trimmed and bounded. */
static int visit(void *ctx, const char *key, const char *value, const char **why)
{
	size_t kl = strlen(key), vl = strlen(value);

	(void)ctx;
	if (kl > AWG_KEYFILE_LINE_MAX || vl > AWG_KEYFILE_LINE_MAX || !kl ||
	    key[0] == ' ' || (vl && (value[vl - 1] == ' ' || value[0] == ' ')) ||
	    strchr(value, '#') || strchr(key, '='))
		abort();
	if (!strcmp(key, "Refuse")) {
		*why = "refused";
		return -1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];

	awg_keyfile_parse((const char *)data, size, "fuzz", visit, NULL, why, sizeof(why));
	return 0;
}
