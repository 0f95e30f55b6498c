// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness of the configuration-file parser and writer: whatever parses must write,
 * read back to an equal model, and write again to the same text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const char *in, size_t size, enum awg_conf_dialect d, unsigned flags)
{
	struct awg_conf a, b;
	struct awg_parse_error err;
	char *t1 = NULL, *t2 = NULL;
	size_t l1, l2;

	awg_conf_init(&a);
	awg_conf_init(&b);
	if (awg_conf_parse(&a, in, size, d, &err))
		goto out;
	if (awg_conf_write(&a, &t1, &l1, flags)) {
		fprintf(stderr, "writer refused a parsed model\n");
		abort();
	}
	if (awg_conf_parse(&b, t1, l1, d, &err)) {
		fprintf(stderr, "written text does not parse: %u:%u %s\n%s", err.line, err.column,
			err.msg, t1);
		abort();
	}
	if (!awg_conf_equal(&a, &b)) {
		fprintf(stderr, "model changed by the round trip:\n%s", t1);
		abort();
	}
	if (awg_conf_write(&b, &t2, &l2, flags) || l1 != l2 || memcmp(t1, t2, l1)) {
		fprintf(stderr, "writer is not stable\n");
		abort();
	}
	/* The redacted view must never fail where the full one succeeds. */
	free(t2);
	t2 = NULL;
	if (awg_conf_write(&a, &t2, &l2, flags | AWG_CONF_WRITE_REDACT))
		abort();
out:
	free(t1);
	free(t2);
	awg_conf_free(&a);
	awg_conf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;

	round_trip(in, size, AWG_CONF_DIALECT_QUICK, AWG_CONF_WRITE_QUICK);
	round_trip(in, size, AWG_CONF_DIALECT_TOOLS, 0);
	round_trip(in, size, AWG_CONF_DIALECT_WINDOWS, AWG_CONF_WRITE_QUICK);
	return 0;
}
