// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness of the awg-manager wire codec: whatever decodes must re-encode to the very
 * same bytes (the encoder accepts exactly what the decoder produces).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awg/manager-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct awg_mgr_msg m;
	uint8_t *out = NULL;
	size_t len = 0;
	int ret;

	if (awg_mgr_decode(&m, data, size))
		goto out;
	ret = awg_mgr_encode(&m, &out, &len);
	if (ret) {
		fprintf(stderr, "encoder refused a decoded %s frame: %d\n",
			awg_mgr_method_name(m.code), ret);
		abort();
	}
	if (len != size || memcmp(out, data, size)) {
		fprintf(stderr, "re-encoded frame differs (%zu bytes, was %zu)\n", len, size);
		abort();
	}
out:
	free(out);
	awg_mgr_msg_free(&m);
	return 0;
}
