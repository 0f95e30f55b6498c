// SPDX-License-Identifier: MIT
/*
 * The awg-manager wire codec: every message round-trips byte for byte, every strictness rule
 * is enforced by the decoder and the encoder alike, and the Python twin's seed frames
 * (tests/fuzz/corpus/mgrproto/) decode, or are refused, the same way here.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awg/manager-proto.h"
#include "harness.h"

/* --- A raw frame builder, for frames the encoder would refuse to make. --- */

struct bld {
	uint8_t *p;
	size_t n;
	size_t cap;
};

static void b_bytes(struct bld *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void b_le(struct bld *b, uint64_t v, size_t n)
{
	uint8_t x[8];

	for (size_t i = 0; i < n; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	b_bytes(b, x, n);
}

static void b_str(struct bld *b, const char *s, size_t n)
{
	b_le(b, n, 4);
	b_bytes(b, s, n);
}

/* Starts a frame: a length word (fixed by b_end) and the header. */
static void b_hdr(struct bld *b, unsigned kind, unsigned code, unsigned flags, uint32_t seq)
{
	memset(b, 0, sizeof(*b));
	b_le(b, 0, 4);
	b_le(b, kind, 1);
	b_le(b, code, 1);
	b_le(b, flags, 2);
	b_le(b, seq, 4);
}

static void b_end(struct bld *b)
{
	for (size_t i = 0; i < 4; i++)
		b->p[i] = (uint8_t)((b->n - 4) >> (8 * i));
}

/* Decodes and frees; returns what the decoder said. */
static int decode_rc(const uint8_t *p, size_t n)
{
	struct awg_mgr_msg m;
	int ret = awg_mgr_decode(&m, p, n);

	awg_mgr_msg_free(&m);
	return ret;
}

static int decode_bld(struct bld *b)
{
	int ret;

	b_end(b);
	ret = decode_rc(b->p, b->n);
	free(b->p);
	b->p = NULL;
	return ret;
}

/* --- Sample messages: one of every request, success reply and event. --- */

static const char conf[] = "[Interface]\nPrivateKey = not-a-real-key\nListenPort = 51820\n";

static void sample_peers(struct awg_mgr_msg *m)
{
	m->total_peers = 5;
	m->n_peers = 2;
	m->peers = calloc(2, sizeof(*m->peers));
	if (!m->peers)
		abort();
	memset(m->peers[0].public_key, 0xab, AWG_MGR_KEY_LEN);
	strcpy(m->peers[0].endpoint, "[2001:db8::1]:51820");
	m->peers[0].rx_bytes = 1ull << 40;
	m->peers[0].tx_bytes = 77;
	m->peers[0].last_handshake_sec = 1700000000;
	m->peers[0].last_handshake_nsec = 999999999;
	m->peers[0].keepalive = 25;
	m->peers[1].public_key[0] = 1;		/* a placeholder: index 1 */
	m->peers[1].last_handshake_sec = -1;
}

static void sample_tunnels(struct awg_mgr_msg *m)
{
	m->n_tunnels = 3;
	m->tunnels = calloc(3, sizeof(*m->tunnels));
	if (!m->tunnels)
		abort();
	strcpy(m->tunnels[0].name, "wg0");
	m->tunnels[0].state = AWG_MGR_STARTED;
	m->tunnels[0].enabled = 1;
	strcpy(m->tunnels[1].name, "office");
	m->tunnels[1].state = AWG_MGR_STOPPED;
	memset(m->tunnels[2].name, 'z', AWG_MGR_NAME_MAX);
	m->tunnels[2].state = AWG_MGR_STOPPING;
}

static void sample_request(struct awg_mgr_msg *m, unsigned code)
{
	m->kind = AWG_MGR_REQUEST;
	m->code = (uint8_t)code;
	m->seq = 1000 + code;
	switch (code) {
	case AWG_MGR_CREATE:
		if (awg_mgr_msg_set_config(m, conf, strlen(conf)))
			abort();
		m->flag = 1;
		/* fallthrough */
	case AWG_MGR_STORED_CONFIG:
	case AWG_MGR_RUNTIME_CONFIG:
	case AWG_MGR_START:
	case AWG_MGR_STOP:
	case AWG_MGR_WAIT_FOR_STOP:
	case AWG_MGR_DELETE:
	case AWG_MGR_STATE:
		strcpy(m->name, "wg0");
		break;
	case AWG_MGR_QUIT:
	case AWG_MGR_SUBSCRIBE:
		m->flag = 1;
		break;
	}
}

static void sample_reply(struct awg_mgr_msg *m, unsigned code)
{
	m->kind = AWG_MGR_REPLY;
	m->code = (uint8_t)code;
	m->seq = 0xfffffff0u + code;
	switch (code) {
	case AWG_MGR_RUNTIME_CONFIG:
		m->flag = 1;
		strcpy(m->ifname, "awg-office12345");
		m->listen_port = 51820;
		m->has_public_key = 1;
		memset(m->public_key, 0x5a, AWG_MGR_KEY_LEN);
		sample_peers(m);
		/* fallthrough */
	case AWG_MGR_STORED_CONFIG:
		if (awg_mgr_msg_set_config(m, conf, strlen(conf)))
			abort();
		break;
	case AWG_MGR_STATE:
		m->state = AWG_MGR_STOPPED;
		strcpy(m->error, "handshake did not complete");
		break;
	case AWG_MGR_GLOBAL_STATE:
		m->state = AWG_MGR_STARTING;
		break;
	case AWG_MGR_CREATE:
		strcpy(m->name, "Home");
		break;
	case AWG_MGR_TUNNELS:
		sample_tunnels(m);
		break;
	case AWG_MGR_QUIT:
		m->flag = 1;
		break;
	case AWG_MGR_UPDATE_STATE:
		m->state = AWG_MGR_UPDATE_DISABLED;
		break;
	case AWG_MGR_LOG_FD:
		m->value = 1u << 20;
		break;
	case AWG_MGR_ROLE:
		m->state = AWG_MGR_ROLE_OPERATOR;
		m->value = 1000;
		break;
	}
}

static void sample_event(struct awg_mgr_msg *m, unsigned code)
{
	m->kind = AWG_MGR_EVENT;
	m->code = (uint8_t)code;
	switch (code) {
	case AWG_MGR_EV_TUNNEL_CHANGE:
		strcpy(m->name, "wg0");
		m->state = AWG_MGR_STOPPED;
		m->global_state = AWG_MGR_STOPPED;
		strcpy(m->error, "address in use");
		break;
	case AWG_MGR_EV_UPDATE_FOUND:
		m->state = AWG_MGR_UPDATE_FOUND;
		break;
	case AWG_MGR_EV_UPDATE_PROGRESS:
		strcpy(m->activity, "Verifying");
		m->downloaded = 1ull << 33;
		m->total = (1ull << 33) + 1;
		m->flag = 1;
		break;
	}
}

#define N_SAMPLES (2 * AWG_MGR_METHODS + AWG_MGR_EVENTS)

/* Sample i of N_SAMPLES into a zeroed m. */
static void sample(struct awg_mgr_msg *m, unsigned i)
{
	memset(m, 0, sizeof(*m));
	if (i < AWG_MGR_METHODS)
		sample_request(m, i);
	else if (i < 2 * AWG_MGR_METHODS)
		sample_reply(m, i - AWG_MGR_METHODS);
	else
		sample_event(m, i - 2 * AWG_MGR_METHODS);
}

static bool msg_equal(const struct awg_mgr_msg *a, const struct awg_mgr_msg *b)
{
	bool eq = a->kind == b->kind && a->code == b->code && a->seq == b->seq &&
		  a->status == b->status && !strcmp(a->error, b->error) &&
		  !strcmp(a->name, b->name) && a->config_len == b->config_len &&
		  !a->config == !b->config && a->flag == b->flag && a->state == b->state &&
		  a->global_state == b->global_state && a->value == b->value &&
		  !strcmp(a->ifname, b->ifname) && a->listen_port == b->listen_port &&
		  a->has_public_key == b->has_public_key &&
		  !memcmp(a->public_key, b->public_key, AWG_MGR_KEY_LEN) &&
		  a->total_peers == b->total_peers && a->n_peers == b->n_peers &&
		  a->n_tunnels == b->n_tunnels && !strcmp(a->activity, b->activity) &&
		  a->downloaded == b->downloaded && a->total == b->total;

	if (eq && a->config)
		eq = !memcmp(a->config, b->config, a->config_len + 1);
	/* Both sides' arrays come from calloc, so their padding is zero too. */
	if (eq && a->n_peers)
		eq = !memcmp(a->peers, b->peers, a->n_peers * sizeof(*a->peers));
	if (eq && a->n_tunnels)
		eq = !memcmp(a->tunnels, b->tunnels, a->n_tunnels * sizeof(*a->tunnels));
	return eq;
}

/* encode -> decode -> encode: the message survives and the bytes are identical. */
static void check_round_trip(const struct awg_mgr_msg *m)
{
	struct awg_mgr_msg d;
	uint8_t *f1 = NULL, *f2 = NULL;
	size_t l1 = 0, l2 = 0;

	if (!CHECK_INT(awg_mgr_encode(m, &f1, &l1), 0))
		return;
	CHECK_INT(awg_mgr_frame_len(f1), l1);
	CHECK_INT(awg_mgr_decode(&d, f1, l1), 0);
	CHECK(msg_equal(m, &d));
	CHECK_INT(awg_mgr_encode(&d, &f2, &l2), 0);
	if (CHECK_INT(l2, l1))
		CHECK_MEM(f2, f1, l1);
	awg_mgr_msg_free(&d);
	free(f1);
	free(f2);
}

static void round_trip_every_message(void)
{
	struct awg_mgr_msg m;

	for (unsigned i = 0; i < N_SAMPLES; i++) {
		sample(&m, i);
		check_round_trip(&m);
		awg_mgr_msg_free(&m);
	}
}

static void exact_bytes(void)
{
	static const uint8_t start[] = {
		0x0f, 0, 0, 0,			/* 15 bytes follow */
		1, 2, 0, 0,			/* request Start, flags 0 */
		0x78, 0x56, 0x34, 0x12,		/* seq */
		3, 0, 0, 0, 'w', 'g', '0',	/* name */
	};
	static const uint8_t state_reply[] = {
		0x18, 0, 0, 0, 2, 6, 0, 0, 9, 0, 0, 0,
		0, 0, 0, 0,			/* status 0 */
		0, 0, 0, 0,			/* error "" */
		2,				/* Stopped */
		3, 0, 0, 0, 'b', 'a', 'd',	/* State's own error */
	};
	struct awg_mgr_msg m = { 0 };
	uint8_t *f = NULL;
	size_t n = 0;

	m.kind = AWG_MGR_REQUEST;
	m.code = AWG_MGR_START;
	m.seq = 0x12345678;
	strcpy(m.name, "wg0");
	CHECK_INT(awg_mgr_encode(&m, &f, &n), 0);
	if (CHECK_INT(n, sizeof(start)))
		CHECK_MEM(f, start, n);
	free(f);

	CHECK_INT(awg_mgr_decode(&m, state_reply, sizeof(state_reply)), 0);
	CHECK_INT(m.status, 0);
	CHECK_INT(m.state, AWG_MGR_STOPPED);
	CHECK(!strcmp(m.error, "bad"));
	CHECK_INT(m.seq, 9);
	awg_mgr_msg_free(&m);
}

static void big_messages(void)
{
	struct awg_mgr_msg m = { 0 };
	char *text = malloc(AWG_MGR_CONFIG_MAX);

	if (!text)
		abort();
	/* Every limit at once: the largest RuntimeConfig still fits a frame. */
	memset(text, 'k', AWG_MGR_CONFIG_MAX);
	sample_reply(&m, AWG_MGR_RUNTIME_CONFIG);
	CHECK_INT(awg_mgr_msg_set_config(&m, text, AWG_MGR_CONFIG_MAX), 0);
	free(m.peers);
	m.n_peers = m.total_peers = AWG_MGR_PEERS_MAX;
	m.peers = calloc(AWG_MGR_PEERS_MAX, sizeof(*m.peers));
	if (!m.peers)
		abort();
	for (unsigned i = 0; i < AWG_MGR_PEERS_MAX; i++) {
		m.peers[i].public_key[0] = (uint8_t)i;
		memset(m.peers[i].endpoint, '9', AWG_MGR_ENDPOINT_MAX);
		m.peers[i].last_handshake_nsec = i;
	}
	memset(m.error, 0, sizeof(m.error));
	check_round_trip(&m);
	awg_mgr_msg_free(&m);

	memset(&m, 0, sizeof(m));
	m.kind = AWG_MGR_REPLY;
	m.code = AWG_MGR_TUNNELS;
	m.n_tunnels = AWG_MGR_TUNNELS_MAX;
	m.tunnels = calloc(AWG_MGR_TUNNELS_MAX, sizeof(*m.tunnels));
	if (!m.tunnels)
		abort();
	for (unsigned i = 0; i < AWG_MGR_TUNNELS_MAX; i++)
		snprintf(m.tunnels[i].name, sizeof(m.tunnels[i].name), "t%u", i);
	check_round_trip(&m);
	awg_mgr_msg_free(&m);
	free(text);
}

static void error_reply_has_no_results(void)
{
	static const char why[] = "no such tunnel";
	struct awg_mgr_msg m = { 0 }, d;
	uint8_t *f = NULL;
	size_t n = 0;

	/* Result fields set by mistake are not sent with a failure. */
	sample_reply(&m, AWG_MGR_RUNTIME_CONFIG);
	m.status = ENOENT;
	strcpy(m.error, why);
	CHECK_INT(awg_mgr_encode(&m, &f, &n), 0);
	CHECK_INT(n, 4 + AWG_MGR_HDR_LEN + 4 + 4 + strlen(why));
	CHECK_INT(awg_mgr_decode(&d, f, n), 0);
	CHECK_INT(d.status, ENOENT);
	CHECK(!strcmp(d.error, why));
	CHECK(d.config == NULL);
	CHECK_INT(d.n_peers, 0);
	CHECK(d.peers == NULL);
	CHECK_INT(d.flag, 0);
	awg_mgr_msg_free(&d);
	awg_mgr_msg_free(&m);
	free(f);

	/* An error reply followed by a result field has a trailing field. */
	struct bld b;

	b_hdr(&b, AWG_MGR_REPLY, AWG_MGR_LOG_FD, 0, 1);
	b_le(&b, EACCES, 4);
	b_str(&b, "", 0);
	b_le(&b, 4096, 4);
	CHECK_INT(decode_bld(&b), -EINVAL);
	/* ... and the same without it is fine. */
	b_hdr(&b, AWG_MGR_REPLY, AWG_MGR_LOG_FD, 0, 1);
	b_le(&b, EACCES, 4);
	b_str(&b, "", 0);
	CHECK_INT(decode_bld(&b), 0);
}

/* Every sample, cut short at every length (length word kept, or made to match). */
static void truncated(void)
{
	struct awg_mgr_msg m;
	uint8_t *f = NULL;
	size_t n = 0;
	uint8_t *cut;

	for (unsigned i = 0; i < N_SAMPLES; i++) {
		sample(&m, i);
		if (!CHECK_INT(awg_mgr_encode(&m, &f, &n), 0))
			continue;
		cut = malloc(n);
		if (!cut)
			abort();
		for (size_t k = 0; k < n; k++) {
			memcpy(cut, f, k);
			CHECK_INT(decode_rc(cut, k), -EINVAL);
			if (k < 4)
				continue;
			cut[0] = (uint8_t)(k - 4);
			cut[1] = (uint8_t)((k - 4) >> 8);
			cut[2] = (uint8_t)((k - 4) >> 16);
			cut[3] = 0;
			CHECK_INT(decode_rc(cut, k), -EINVAL);
		}
		free(cut);
		free(f);
		awg_mgr_msg_free(&m);
	}
}

static void framing(void)
{
	struct awg_mgr_msg m;
	uint8_t *f = NULL, *g;
	size_t n = 0;

	sample(&m, AWG_MGR_METHODS + AWG_MGR_STATE);
	if (!CHECK_INT(awg_mgr_encode(&m, &f, &n), 0))
		return;
	g = malloc(n + 1);
	if (!g)
		abort();

	/* A trailing byte, announced or not. */
	memcpy(g, f, n);
	g[n] = 0;
	CHECK_INT(decode_rc(g, n + 1), -EINVAL);
	g[0]++;
	CHECK_INT(decode_rc(g, n + 1), -EINVAL);
	/* The length word one too big and one too small. */
	memcpy(g, f, n);
	g[0]++;
	CHECK_INT(decode_rc(g, n), -EINVAL);
	g[0] -= 2;
	CHECK_INT(decode_rc(g, n), -EINVAL);
	/* Flags, either byte. */
	memcpy(g, f, n);
	g[6] = 1;
	CHECK_INT(decode_rc(g, n), -EINVAL);
	g[6] = 0;
	g[7] = 0x80;
	CHECK_INT(decode_rc(g, n), -EINVAL);
	/* Kinds. */
	memcpy(g, f, n);
	for (unsigned k = 0; k < 256; k++) {
		g[4] = (uint8_t)k;
		CHECK_INT(decode_rc(g, n), k == AWG_MGR_REPLY ? 0 : -EINVAL);
	}
	/* Codes: the State reply's payload decodes only as a State reply. */
	memcpy(g, f, n);
	g[5] = AWG_MGR_METHODS;
	CHECK_INT(decode_rc(g, n), -EINVAL);
	g[5] = 0xff;
	CHECK_INT(decode_rc(g, n), -EINVAL);
	memcpy(g, f, n);
	CHECK_INT(decode_rc(g, n), 0);
	free(g);
	free(f);
	awg_mgr_msg_free(&m);

	/* Unknown codes of bodiless messages. */
	struct bld b;

	b_hdr(&b, AWG_MGR_REQUEST, AWG_MGR_METHODS, 0, 0);
	CHECK_INT(decode_bld(&b), -EINVAL);
	b_hdr(&b, AWG_MGR_EVENT, AWG_MGR_EVENTS, 0, 0);
	CHECK_INT(decode_bld(&b), -EINVAL);
	b_hdr(&b, AWG_MGR_EVENT, AWG_MGR_EV_MANAGER_STOPPING, 0, 0);
	CHECK_INT(decode_bld(&b), 0);
	/* Events carry seq 0. */
	b_hdr(&b, AWG_MGR_EVENT, AWG_MGR_EV_MANAGER_STOPPING, 0, 1);
	CHECK_INT(decode_bld(&b), -EINVAL);
	/* Shorter than the header. */
	b_hdr(&b, AWG_MGR_REQUEST, AWG_MGR_ROLE, 0, 0);
	b.n--;
	CHECK_INT(decode_bld(&b), -EINVAL);
}

static void frame_len(void)
{
	static const struct {
		uint8_t head[4];
		size_t want;
	} cases[] = {
		{ { 0, 0, 0, 0 }, 0 },
		{ { 7, 0, 0, 0 }, 0 },
		{ { 8, 0, 0, 0 }, 12 },
		{ { 0xfc, 0xff, 0x0f, 0 }, AWG_MGR_FRAME_MAX },
		{ { 0xfd, 0xff, 0x0f, 0 }, 0 },
		{ { 0, 0, 0x10, 0 }, 0 },
		{ { 0xff, 0xff, 0xff, 0xff }, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(awg_mgr_frame_len(cases[i].head), cases[i].want);
}

static void frame_over_max(void)
{
	size_t n = AWG_MGR_FRAME_MAX + 1;
	uint8_t *g = calloc(1, n);

	if (!g)
		abort();
	/* A Create request whose config would make the frame one byte too long. */
	g[0] = (uint8_t)(n - 4);
	g[1] = (uint8_t)((n - 4) >> 8);
	g[2] = (uint8_t)((n - 4) >> 16);
	g[4] = AWG_MGR_REQUEST;
	g[5] = AWG_MGR_CREATE;
	CHECK_INT(awg_mgr_frame_len(g), 0);
	CHECK_INT(decode_rc(g, n), -EINVAL);
	free(g);
}

static void strings(void)
{
	static char big[AWG_MGR_CONFIG_MAX + 2];
	struct bld b;

	memset(big, 'n', sizeof(big));
	/* Names: the limit and one more. */
	b_hdr(&b, AWG_MGR_REQUEST, AWG_MGR_START, 0, 1);
	b_str(&b, big, AWG_MGR_NAME_MAX);
	CHECK_INT(decode_bld(&b), 0);
	b_hdr(&b, AWG_MGR_REQUEST, AWG_MGR_START, 0, 1);
	b_str(&b, big, AWG_MGR_NAME_MAX + 1);
	CHECK_INT(decode_bld(&b), -EINVAL);
	/* Empty is the manager's to refuse, not the codec's. */
	b_hdr(&b, AWG_MGR_REQUEST, AWG_MGR_START, 0, 1);
	b_str(&b, "", 0);
	CHECK_INT(decode_bld(&b), 0);
	/* A NUL anywhere in a string. */
	b_hdr(&b, AWG_MGR_REQUEST, AWG_MGR_START, 0, 1);
	b_str(&b, "w\0g", 3);
	CHECK_INT(decode_bld(&b), -EINVAL);
	b_hdr(&b, AWG_MGR_REQUEST, AWG_MGR_START, 0, 1);
	b_str(&b, "wg\0", 3);
	CHECK_INT(decode_bld(&b), -EINVAL);
	/* A str count larger than the frame. */
	b_hdr(&b, AWG_MGR_REQUEST, AWG_MGR_START, 0, 1);
	b_le(&b, 5, 4);
	b_bytes(&b, "wg0", 3);
	CHECK_INT(decode_bld(&b), -EINVAL);
	/* Config: CONFIG_MAX bytes, and one more. */
	b_hdr(&b, AWG_MGR_REQUEST, AWG_MGR_CREATE, 0, 1);
	b_str(&b, "a", 1);
	b_str(&b, big, AWG_MGR_CONFIG_MAX);
	b_le(&b, 0, 1);
	CHECK_INT(decode_bld(&b), 0);
	b_hdr(&b, AWG_MGR_REQUEST, AWG_MGR_CREATE, 0, 1);
	b_str(&b, "a", 1);
	b_str(&b, big, AWG_MGR_CONFIG_MAX + 1);
	b_le(&b, 0, 1);
	CHECK_INT(decode_bld(&b), -EINVAL);
	b_hdr(&b, AWG_MGR_REQUEST, AWG_MGR_CREATE, 0, 1);
	b_str(&b, "a", 1);
	b_str(&b, "[Peer]\n\0", 8);
	b_le(&b, 0, 1);
	CHECK_INT(decode_bld(&b), -EINVAL);
	/* Error, ifname, endpoint and activity limits. */
	b_hdr(&b, AWG_MGR_REPLY, AWG_MGR_START, 0, 1);
	b_le(&b, EBUSY, 4);
	b_str(&b, big, AWG_MGR_ERROR_MAX + 1);
	CHECK_INT(decode_bld(&b), -EINVAL);
	b_hdr(&b, AWG_MGR_EVENT, AWG_MGR_EV_UPDATE_PROGRESS, 0, 0);
	b_str(&b, big, AWG_MGR_ACTIVITY_MAX + 1);
	b_le(&b, 0, 8);
	b_le(&b, 0, 8);
	b_str(&b, "", 0);
	b_le(&b, 0, 1);
	CHECK_INT(decode_bld(&b), -EINVAL);
	/* A successful reply carries no error text of its own. */
	b_hdr(&b, AWG_MGR_REPLY, AWG_MGR_START, 0, 1);
	b_le(&b, 0, 4);
	b_str(&b, "oops", 4);
	CHECK_INT(decode_bld(&b), -EINVAL);
}

/* A RuntimeConfig reply with n peers of which peer k has the given nsec/ifname length. */
static void runtime(struct bld *b, uint32_t total, uint32_t n, size_t ifname_len,
		    uint32_t nsec, unsigned has_key)
{
	b_hdr(b, AWG_MGR_REPLY, AWG_MGR_RUNTIME_CONFIG, 0, 1);
	b_le(b, 0, 4);
	b_str(b, "", 0);
	b_str(b, "[Interface]\n", 12);
	b_le(b, 1, 1);
	b_str(b, "awg0-awg0-awg0-awg0", ifname_len);
	b_le(b, 51820, 2);
	b_le(b, has_key, 1);
	b_bytes(b, (uint8_t[32]){ 0 }, 32);
	b_le(b, total, 4);
	b_le(b, n, 4);
	for (uint32_t i = 0; i < n; i++) {
		b_bytes(b, (uint8_t[32]){ (uint8_t)i }, 32);
		b_str(b, "", 0);
		b_le(b, 1, 8);
		b_le(b, 2, 8);
		b_le(b, 3, 8);
		b_le(b, nsec, 4);
		b_le(b, 25, 2);
	}
}

static void values(void)
{
	struct bld b;

	runtime(&b, 2, 2, 15, 999999999, 1);
	CHECK_INT(decode_bld(&b), 0);
	/* Bools are 0 or 1. */
	runtime(&b, 2, 2, 15, 0, 2);
	CHECK_INT(decode_bld(&b), -EINVAL);
	b_hdr(&b, AWG_MGR_REQUEST, AWG_MGR_SUBSCRIBE, 0, 1);
	b_le(&b, 2, 1);
	CHECK_INT(decode_bld(&b), -EINVAL);
	b_hdr(&b, AWG_MGR_REQUEST, AWG_MGR_QUIT, 0, 1);
	b_le(&b, 0xff, 1);
	CHECK_INT(decode_bld(&b), -EINVAL);
	/* Interface names fit IFNAMSIZ. */
	runtime(&b, 2, 2, 16, 0, 1);
	CHECK_INT(decode_bld(&b), -EINVAL);
	/* Nanoseconds below one second. */
	runtime(&b, 2, 2, 15, 1000000000, 1);
	CHECK_INT(decode_bld(&b), -EINVAL);
	/* Peers: no more than total_peers, no more than PEERS_MAX. */
	runtime(&b, 1, 2, 15, 0, 1);
	CHECK_INT(decode_bld(&b), -EINVAL);
	runtime(&b, AWG_MGR_PEERS_MAX, AWG_MGR_PEERS_MAX, 15, 0, 1);
	CHECK_INT(decode_bld(&b), 0);
	runtime(&b, AWG_MGR_PEERS_MAX + 1, AWG_MGR_PEERS_MAX + 1, 15, 0, 1);
	CHECK_INT(decode_bld(&b), -EINVAL);
	/* A huge count with no room for it is refused before allocating. */
	runtime(&b, UINT32_MAX, 0, 15, 0, 1);
	b.n -= 4;
	b_le(&b, AWG_MGR_PEERS_MAX, 4);
	CHECK_INT(decode_bld(&b), -EINVAL);

	/* Enumerations: tunnel state, update state, role. */
	static const struct {
		unsigned kind, code, bad;
	} enums[] = {
		{ AWG_MGR_REPLY, AWG_MGR_GLOBAL_STATE, AWG_MGR_STATES },
		{ AWG_MGR_REPLY, AWG_MGR_UPDATE_STATE, AWG_MGR_UPDATE_STATES },
		{ AWG_MGR_EVENT, AWG_MGR_EV_UPDATE_FOUND, AWG_MGR_UPDATE_STATES },
	};

	for (size_t i = 0; i < sizeof(enums) / sizeof(enums[0]); i++) {
		for (unsigned v = enums[i].bad - 1; v <= enums[i].bad; v++) {
			uint32_t seq = enums[i].kind == AWG_MGR_EVENT ? 0 : 1;

			b_hdr(&b, enums[i].kind, enums[i].code, 0, seq);
			if (enums[i].kind == AWG_MGR_REPLY) {
				b_le(&b, 0, 4);
				b_str(&b, "", 0);
			}
			b_le(&b, v, 1);
			CHECK_INT(decode_bld(&b), v < enums[i].bad ? 0 : -EINVAL);
		}
	}
	b_hdr(&b, AWG_MGR_REPLY, AWG_MGR_ROLE, 0, 1);
	b_le(&b, 0, 4);
	b_str(&b, "", 0);
	b_le(&b, AWG_MGR_ROLES, 1);
	b_le(&b, 0, 4);
	CHECK_INT(decode_bld(&b), -EINVAL);
	b_hdr(&b, AWG_MGR_EVENT, AWG_MGR_EV_TUNNEL_CHANGE, 0, 0);
	b_str(&b, "wg0", 3);
	b_le(&b, AWG_MGR_STARTED, 1);
	b_le(&b, AWG_MGR_STATES, 1);
	b_str(&b, "", 0);
	CHECK_INT(decode_bld(&b), -EINVAL);

	/* Tunnels: entry state and enabled checked, at most TUNNELS_MAX entries. */
	for (unsigned variant = 0; variant < 3; variant++) {
		uint32_t n = variant == 2 ? AWG_MGR_TUNNELS_MAX + 1 : 2;

		b_hdr(&b, AWG_MGR_REPLY, AWG_MGR_TUNNELS, 0, 1);
		b_le(&b, 0, 4);
		b_str(&b, "", 0);
		b_le(&b, n, 4);
		for (uint32_t i = 0; i < n; i++) {
			b_str(&b, "t", 1);
			b_le(&b, variant == 0 && i == 1 ? AWG_MGR_STATES : 0, 1);
			b_le(&b, variant == 1 && i == 1 ? 2 : 1, 1);
		}
		CHECK_INT(decode_bld(&b), -EINVAL);
	}
}

static void encode_refuses(void)
{
	static uint8_t sentinel;
	struct awg_mgr_msg m;
	uint8_t *f;
	size_t n;

	/* Starts from a valid RuntimeConfig reply; a refusal leaves no buffer behind. */
#define REFUSE(setup, want)                                                                    \
	do {                                                                                   \
		sample(&m, AWG_MGR_METHODS + AWG_MGR_RUNTIME_CONFIG);                          \
		setup;                                                                         \
		f = &sentinel;                                                                 \
		n = 1;                                                                         \
		CHECK_INT(awg_mgr_encode(&m, &f, &n), want);                                   \
		if (want)                                                                      \
			CHECK(f == NULL && n == 0);                                            \
		else                                                                           \
			free(f);                                                               \
		awg_mgr_msg_free(&m);                                                          \
	} while (0)

	REFUSE(m.kind = 0, -EINVAL);
	REFUSE(m.kind = 4, -EINVAL);
	REFUSE(m.code = AWG_MGR_METHODS, -EINVAL);
	REFUSE((m.kind = AWG_MGR_EVENT, m.code = AWG_MGR_EVENTS), -EINVAL);
	REFUSE((m.kind = AWG_MGR_EVENT, m.code = 1, m.seq = 3), -EINVAL);
	REFUSE(m.flag = 2, -EINVAL);
	REFUSE(m.has_public_key = 7, -EINVAL);
	REFUSE(memset(m.ifname, 'i', sizeof(m.ifname)), -EINVAL);
	REFUSE(m.config[3] = '\0', -EINVAL);
	REFUSE((free(m.config), m.config = NULL), -EINVAL);
	REFUSE(m.total_peers = 1, -EINVAL);
	/* One entry over the maximum, every entry valid. */
	REFUSE((free(m.peers), m.peers = calloc(AWG_MGR_PEERS_MAX + 1, sizeof(*m.peers)),
		m.n_peers = m.total_peers = AWG_MGR_PEERS_MAX + 1), -EINVAL);
	REFUSE((m.code = AWG_MGR_TUNNELS,
		m.tunnels = calloc(AWG_MGR_TUNNELS_MAX + 1, sizeof(*m.tunnels)),
		m.n_tunnels = AWG_MGR_TUNNELS_MAX + 1), -EINVAL);
	REFUSE((m.code = AWG_MGR_TUNNELS,
		m.tunnels = calloc(AWG_MGR_TUNNELS_MAX, sizeof(*m.tunnels)),
		m.n_tunnels = AWG_MGR_TUNNELS_MAX), 0);
	REFUSE((free(m.peers), m.peers = NULL), -EINVAL);
	REFUSE(m.peers[1].last_handshake_nsec = 1000000000, -EINVAL);
	REFUSE(memset(m.peers[0].endpoint, 'e', sizeof(m.peers[0].endpoint)), -EINVAL);
	/* A success reply's error text belongs to State alone. */
	REFUSE(strcpy(m.error, "why"), -EINVAL);
	REFUSE((m.code = AWG_MGR_GLOBAL_STATE, m.state = AWG_MGR_STATES), -EINVAL);
	REFUSE((m.code = AWG_MGR_UPDATE_STATE, m.state = AWG_MGR_UPDATE_STATES), -EINVAL);
	REFUSE((m.code = AWG_MGR_ROLE, m.state = AWG_MGR_ROLES), -EINVAL);
	REFUSE((m.code = AWG_MGR_CREATE, memset(m.name, 'n', sizeof(m.name))), -EINVAL);
	REFUSE((m.code = AWG_MGR_TUNNELS, m.n_tunnels = 1), -EINVAL);
	REFUSE((m.kind = AWG_MGR_EVENT, m.code = AWG_MGR_EV_UPDATE_PROGRESS, m.seq = 0,
		memset(m.activity, 'a', sizeof(m.activity))), -EINVAL);
	/* The same message is fine once valid. */
	REFUSE((m.kind = AWG_MGR_EVENT, m.code = AWG_MGR_EV_UPDATE_PROGRESS, m.seq = 0,
		memset(m.activity, 'a', AWG_MGR_ACTIVITY_MAX), m.flag = 1), 0);
	/* An error reply with an over-long error text (no NUL in the array). */
	REFUSE((m.status = EIO, memset(m.error, 'x', sizeof(m.error))), -EINVAL);
	REFUSE((m.status = EIO, memset(m.error, 'x', AWG_MGR_ERROR_MAX)), 0);
#undef REFUSE
}

static void set_config(void)
{
	struct awg_mgr_msg m = { 0 };
	static char big[AWG_MGR_CONFIG_MAX + 1];

	CHECK_INT(awg_mgr_msg_set_config(&m, "abc", 3), 0);
	CHECK(m.config && !strcmp(m.config, "abc"));
	CHECK_INT(m.config_len, 3);
	CHECK_INT(awg_mgr_msg_set_config(&m, "de", 2), 0);
	CHECK(!strcmp(m.config, "de"));
	CHECK_INT(m.config_len, 2);
	CHECK_INT(awg_mgr_msg_set_config(&m, big, sizeof(big)), -E2BIG);
	CHECK(!strcmp(m.config, "de"));
	CHECK_INT(awg_mgr_msg_set_config(&m, big, AWG_MGR_CONFIG_MAX), 0);
	CHECK_INT(m.config_len, AWG_MGR_CONFIG_MAX);
	CHECK_INT(awg_mgr_msg_set_config(&m, NULL, 0), 0);
	CHECK(!strcmp(m.config, ""));
	awg_mgr_msg_free(&m);
	CHECK(m.config == NULL && m.config_len == 0);
}

static void names(void)
{
	CHECK(!strcmp(awg_mgr_method_name(AWG_MGR_STORED_CONFIG), "StoredConfig"));
	CHECK(!strcmp(awg_mgr_method_name(AWG_MGR_WAIT_FOR_STOP), "WaitForStop"));
	CHECK(!strcmp(awg_mgr_method_name(AWG_MGR_ROLE), "Role"));
	CHECK(!strcmp(awg_mgr_method_name(AWG_MGR_METHODS), "?"));
	CHECK(!strcmp(awg_mgr_event_name(AWG_MGR_EV_TUNNEL_CHANGE), "TunnelChange"));
	CHECK(!strcmp(awg_mgr_event_name(AWG_MGR_EV_UPDATE_PROGRESS), "UpdateProgress"));
	CHECK(!strcmp(awg_mgr_event_name(AWG_MGR_EVENTS), "?"));
	CHECK(!strcmp(awg_mgr_state_name(AWG_MGR_STARTED), "Started"));
	CHECK(!strcmp(awg_mgr_state_name(AWG_MGR_STOPPING), "Stopping"));
	CHECK(!strcmp(awg_mgr_state_name(AWG_MGR_STATES), "?"));
	CHECK(!strcmp(awg_mgr_role_name(AWG_MGR_ROLE_OPERATOR), "Operator"));
	CHECK(!strcmp(awg_mgr_role_name(999), "?"));
	/* Every code has a name of its own. */
	for (unsigned i = 0; i < AWG_MGR_METHODS; i++)
		for (unsigned j = 0; j < i; j++)
			CHECK(strcmp(awg_mgr_method_name(i), awg_mgr_method_name(j)));
}

static uint8_t *read_file(const char *path, size_t *n)
{
	uint8_t *buf = NULL;
	FILE *f = fopen(path, "rb");
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		*n = (size_t)size;
	}
	fclose(f);
	return buf;
}

/* The Python twin's frames (tests/netns/mgrproto.py --write-corpus). */
static void python_corpus(void)
{
	static const char dir[] = "tests/fuzz/corpus/mgrproto";
	struct awg_mgr_msg m;
	unsigned ok = 0, bad = 0;
	struct dirent *e;
	char path[512];
	uint8_t *buf, *out;
	size_t n = 0, on;
	DIR *d = opendir(dir);

	if (!CHECK(d != NULL))
		return;
	while ((e = readdir(d))) {
		bool is_ok = !strncmp(e->d_name, "ok-", 3);

		if (!is_ok && strncmp(e->d_name, "bad-", 4))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		buf = read_file(path, &n);
		if (!CHECK(buf != NULL))
			continue;
		if (is_ok) {
			ok++;
			out = NULL;
			on = 0;
			if (!CHECK_INT(awg_mgr_decode(&m, buf, n), 0) ||
			    !CHECK_INT(awg_mgr_encode(&m, &out, &on), 0) || !CHECK_INT(on, n) ||
			    !CHECK_MEM(out, buf, n))
				fprintf(stderr, "    in %s\n", e->d_name);
			free(out);
		} else {
			bad++;
			if (!CHECK_INT(awg_mgr_decode(&m, buf, n), -EINVAL))
				fprintf(stderr, "    in %s\n", e->d_name);
		}
		awg_mgr_msg_free(&m);
		free(buf);
	}
	closedir(d);
	/* One of every request, success and error reply and event; a dozen malformed. */
	CHECK(ok >= 3 * AWG_MGR_METHODS + AWG_MGR_EVENTS);
	CHECK(bad >= 12);
}

TEST_MAIN("mgrproto", T(round_trip_every_message), T(exact_bytes), T(big_messages),
	  T(error_reply_has_no_results), T(truncated), T(framing), T(frame_len),
	  T(frame_over_max), T(strings), T(values), T(encode_refuses), T(set_config), T(names),
	  T(python_corpus))
