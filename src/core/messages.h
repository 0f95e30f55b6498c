/* SPDX-License-Identifier: MIT */
/*
 * WireGuard wire formats and protocol constants (spec §4.1, §8), and nothing else.
 *
 * Messages are byte arrays laid out by these structs; every multi-byte field is little-endian
 * and read/written through awg_le32/awg_le64 helpers, never by casting pointers into packets.
 */
#ifndef _AWG_MESSAGES_H
#define _AWG_MESSAGES_H

#include <stdint.h>
#include <string.h>

enum awg_noise_lengths {
	AWG_PUBLIC_KEY_LEN = 32,
	AWG_PRIVATE_KEY_LEN = 32,
	AWG_SYMMETRIC_KEY_LEN = 32,
	AWG_TIMESTAMP_LEN = 12,
	AWG_AUTHTAG_LEN = 16,
	AWG_HASH_LEN = 32,
	AWG_COOKIE_LEN = 16,
	AWG_COOKIE_NONCE_LEN = 24,
};

#define awg_encrypted_len(plain_len) ((plain_len) + AWG_AUTHTAG_LEN)

enum awg_message_type {
	AWG_MESSAGE_INVALID = 0,
	AWG_MESSAGE_HANDSHAKE_INITIATION = 1,
	AWG_MESSAGE_HANDSHAKE_RESPONSE = 2,
	AWG_MESSAGE_HANDSHAKE_COOKIE = 3,
	AWG_MESSAGE_DATA = 4,
};

enum awg_limits {
	AWG_REKEY_TIMEOUT = 5,			/* s */
	AWG_REKEY_TIMEOUT_JITTER_MAX_MS = 334,	/* jitter drawn from [0, 333] ms */
	AWG_REKEY_AFTER_TIME = 120,		/* s */
	AWG_REJECT_AFTER_TIME = 180,		/* s */
	AWG_REKEY_ATTEMPT_TIME = 90,		/* s */
	AWG_KEEPALIVE_TIMEOUT = 10,		/* s */
	AWG_COOKIE_SECRET_MAX_AGE = 120,	/* s */
	AWG_COOKIE_SECRET_LATENCY = 5,		/* s */
	AWG_MAX_TIMER_HANDSHAKES = 18,		/* = REKEY_ATTEMPT_TIME / REKEY_TIMEOUT */
	AWG_INITIATIONS_PER_SECOND = 50,	/* one consumed initiation per peer per 20 ms */
	AWG_MAX_PEERS = 1 << 16,
	AWG_COUNTER_WINDOW_SIZE = 8128,		/* replay window, RFC 6479 ring */
	AWG_MESSAGE_PADDING_MULTIPLE = 16,
	AWG_DEFAULT_MTU = 1420,
};

#define AWG_REKEY_AFTER_MESSAGES (UINT64_C(1) << 60)
#define AWG_REJECT_AFTER_MESSAGES (UINT64_MAX - AWG_COUNTER_WINDOW_SIZE - 1)

struct awg_msg_header {
	uint8_t type[4];	/* LE32; AWG: a value drawn from H_T */
};

struct awg_msg_macs {
	uint8_t mac1[AWG_COOKIE_LEN];
	uint8_t mac2[AWG_COOKIE_LEN];
};

struct awg_msg_initiation {
	struct awg_msg_header header;
	uint8_t sender_index[4];
	uint8_t unencrypted_ephemeral[AWG_PUBLIC_KEY_LEN];
	uint8_t encrypted_static[awg_encrypted_len(AWG_PUBLIC_KEY_LEN)];
	uint8_t encrypted_timestamp[awg_encrypted_len(AWG_TIMESTAMP_LEN)];
	struct awg_msg_macs macs;
};

struct awg_msg_response {
	struct awg_msg_header header;
	uint8_t sender_index[4];
	uint8_t receiver_index[4];
	uint8_t unencrypted_ephemeral[AWG_PUBLIC_KEY_LEN];
	uint8_t encrypted_nothing[awg_encrypted_len(0)];
	struct awg_msg_macs macs;
};

struct awg_msg_cookie {
	struct awg_msg_header header;
	uint8_t receiver_index[4];
	uint8_t nonce[AWG_COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[awg_encrypted_len(AWG_COOKIE_LEN)];
};

struct awg_msg_data {
	struct awg_msg_header header;
	uint8_t receiver_index[4];
	uint8_t counter[8];
	/* followed by the ChaCha20-Poly1305 ciphertext of the padded plaintext */
};

enum awg_message_sizes {
	AWG_MSG_INITIATION_LEN = 148,
	AWG_MSG_RESPONSE_LEN = 92,
	AWG_MSG_COOKIE_LEN = 64,
	AWG_MSG_DATA_HEADER_LEN = 16,
	AWG_MSG_DATA_MIN_LEN = 32,	/* header + empty plaintext + tag = keepalive */
};

_Static_assert(sizeof(struct awg_msg_initiation) == AWG_MSG_INITIATION_LEN, "initiation size");
_Static_assert(sizeof(struct awg_msg_response) == AWG_MSG_RESPONSE_LEN, "response size");
_Static_assert(sizeof(struct awg_msg_cookie) == AWG_MSG_COOKIE_LEN, "cookie size");
_Static_assert(sizeof(struct awg_msg_data) == AWG_MSG_DATA_HEADER_LEN, "data header size");

/* Offsets of mac1 and mac2 within a handshake message of length len. */
#define awg_msg_mac1_offset(len) ((len) - 2 * AWG_COOKIE_LEN)
#define awg_msg_mac2_offset(len) ((len) - AWG_COOKIE_LEN)

static inline uint32_t awg_le32_get(const uint8_t p[4])
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void awg_le32_put(uint8_t p[4], uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint64_t awg_le64_get(const uint8_t p[8])
{
	return (uint64_t)awg_le32_get(p) | (uint64_t)awg_le32_get(p + 4) << 32;
}

static inline void awg_le64_put(uint8_t p[8], uint64_t v)
{
	awg_le32_put(p, (uint32_t)v);
	awg_le32_put(p + 4, (uint32_t)(v >> 32));
}

#endif /* _AWG_MESSAGES_H */
