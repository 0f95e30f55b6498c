// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness of the UAPI layer: frames the input, applies it as a set request to a fresh
 * device, then checks that get output survives the client-side parser unchanged and that the
 * set request written from the device applies cleanly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fake_port(void *ctx, uint16_t port)
{
	(void)ctx;
	return port == 666 ? -98 : 0;
}

static void check_get(const struct awg_conf *dev)
{
	struct awg_conf back;
	struct awg_parse_error err;
	char *g1 = NULL, *g2 = NULL;
	size_t l1, l2;

	if (awg_uapi_get(dev, &g1, &l1))
		abort();
	if (l1 < 9 || memcmp(g1 + l1 - 9, "errno=0\n\n", 9))
		abort();
	awg_conf_init(&back);
	if (awg_uapi_parse_get(&back, g1, l1, &err)) {
		fprintf(stderr, "own get output does not parse: %u %s\n%s", err.line, err.msg, g1);
		abort();
	}
	if (awg_uapi_get(&back, &g2, &l2) || l1 != l2 || memcmp(g1, g2, l1)) {
		fprintf(stderr, "get output changed through the parser:\n%s\n---\n%s", g1, g2);
		abort();
	}
	free(g1);
	free(g2);
	awg_conf_free(&back);
}

static void check_write_set(const struct awg_conf *dev)
{
	struct awg_conf back;
	struct awg_uapi_request req;
	char *s = NULL;
	size_t len;
	int ret;

	if (awg_uapi_write_set(dev, AWG_UAPI_SET_REPLACE, &s, &len))
		return;	/* e.g. an I-spec that cannot be written; nothing to check */
	if (awg_uapi_frame(s, len, &req) != 1 || req.total_len != len)
		abort();
	awg_conf_init(&back);
	ret = awg_uapi_set(&back, s + req.payload_off, req.payload_len, NULL, NULL, NULL);
	if (ret) {
		fprintf(stderr, "own set request fails with %d:\n%s", ret, s);
		abort();
	}
	free(s);
	awg_conf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct awg_uapi_hooks hooks = { .listen_port = fake_port };
	const char *in = (const char *)data;
	struct awg_uapi_request req;
	struct awg_parse_error err;
	struct awg_conf dev;

	awg_conf_init(&dev);
	/* A framed "set=1" request applies its payload; anything else is taken as a payload. */
	if (awg_uapi_frame(in, size, &req) == 1 && req.op == AWG_UAPI_OP_SET)
		(void)awg_uapi_set(&dev, in + req.payload_off, req.payload_len, &hooks, NULL, &err);
	else
		(void)awg_uapi_set(&dev, in, size, &hooks, NULL, &err);
	check_get(&dev);
	check_write_set(&dev);
	awg_conf_free(&dev);
	/* The same bytes as a `get` answer, as the awg CLI and awg-tunnel read it from a daemon. */
	awg_conf_init(&dev);
	(void)awg_uapi_parse_get(&dev, in, size, &err);
	awg_conf_free(&dev);
	return 0;
}
