// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for TUN offloads. Byte 0 bit 0 set: the rest after byte 1 (scratch size) is
 * one TUN frame to split. Clear: the rest is packets, each a 2-byte big-endian length and its
 * bytes, fed to GRO (bit 1: UDP GRO, bit 2: lengths and checksums fixed up first so packets can
 * coalesce, bits 4-7: flows); every coalesced frame must split again.
 */
#include <stdlib.h>
#include <string.h>

#include "offload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FLOWS 8

static uint8_t *area, *scratch, *pkt_buf;

static void count_emit(void *ctx, uint8_t *pkt, size_t len)
{
	size_t *n = ctx;

	if (!len || len > AWG_OFFLOAD_MAX_PKT + 40)
		abort();
	(void)pkt[0];
	(void)pkt[len - 1];
	(*n)++;
}

static void fuzz_split(const uint8_t *data, size_t size)
{
	size_t cap, n = 0;
	uint8_t *frame;
	int ret;

	if (size < 1)
		return;
	cap = data[0] == 0xff ? AWG_OFFLOAD_SCRATCH_LEN : (size_t)data[0] * 16;
	frame = malloc(size - 1 ? size - 1 : 1);	/* exact size: ASan sees any overread */
	if (!frame)
		abort();
	memcpy(frame, data + 1, size - 1);
	ret = awg_offload_split(frame, size - 1, scratch, cap, count_emit, &n);
	if ((ret < 0 && n) || (ret >= 0 && (size_t)ret != n))
		abort();
	free(frame);
}

/* A coalesced frame must be a valid GSO frame: it splits into at least two segments. */
static void gro_out(void *ctx, uint8_t *frame, size_t len)
{
	struct virtio_net_hdr h;
	size_t n = 0;
	int ret;

	(void)ctx;
	if (len <= AWG_VNET_HDR_LEN || len > AWG_GRO_SLOT_LEN)
		abort();
	memcpy(&h, frame, sizeof(h));
	if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if (h.flags || h.hdr_len || h.gso_size)
			abort();
		return;
	}
	ret = awg_offload_split(frame, len, scratch, AWG_OFFLOAD_SCRATCH_LEN, count_emit, &n);
	if (ret < 2)
		abort();
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Makes lengths and checksums right where the headers allow, so that GRO has work to do. */
static void fixup(uint8_t *p, size_t len)
{
	unsigned version = p[0] >> 4;
	size_t thoff, csum_at;
	uint8_t proto;

	if (version == 4 && len >= 20 && (size_t)(p[0] & 15) * 4 <= len && (p[0] & 15) >= 5) {
		thoff = (size_t)(p[0] & 15) * 4;
		proto = p[9];
		put16(p + 2, len);
		put16(p + 10, 0);
		put16(p + 10, (uint16_t)~awg_csum_fold(awg_csum_add(0, p, thoff)));
	} else if (version == 6 && len >= 40) {
		thoff = 40;
		proto = p[6];
		put16(p + 4, len - 40);
	} else {
		return;
	}
	if (proto == 6 && len - thoff >= 20)
		csum_at = thoff + 16;
	else if (proto == 17 && len - thoff >= 8)
		csum_at = thoff + 6;
	else
		return;
	if (proto == 17)
		put16(p + thoff + 4, len - thoff);
	put16(p + csum_at, 0);
	put16(p + csum_at, (uint16_t)~awg_csum_fold(awg_csum_add(
		awg_csum_pseudo(p, version, proto, (uint32_t)(len - thoff)), p + thoff, len - thoff)));
}

static void fuzz_gro(uint8_t flags, const uint8_t *data, size_t size)
{
	unsigned nflows = (flags >> 4) % (MAX_FLOWS + 1);
	struct awg_gro g;
	size_t len;

	if (awg_gro_init(&g, area, AWG_GRO_AREA_LEN(nflows), flags & 2))
		abort();
	while (size >= 2) {
		len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		memcpy(pkt_buf, data, len);
		if (flags & 4)
			fixup(pkt_buf, len);
		awg_gro_add(&g, pkt_buf, len, gro_out, NULL);
		data += len;
		size -= len;
	}
	awg_gro_flush(&g, gro_out, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!area) {
		area = malloc(AWG_GRO_AREA_LEN(MAX_FLOWS));
		scratch = malloc(AWG_OFFLOAD_SCRATCH_LEN);
		pkt_buf = malloc(AWG_OFFLOAD_MAX_PKT);
		if (!area || !scratch || !pkt_buf)
			abort();
	}
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_split(data + 1, size - 1);
	else
		fuzz_gro(data[0], data + 1, size - 1);
	return 0;
}
