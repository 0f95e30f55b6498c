// SPDX-License-Identifier: MIT
/*
 * Owns the Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake of WireGuard:
 *
 *   IKpsk2:
 *     <- s
 *     ...
 *     -> e, es, s, ss, {t}
 *     <- e, ee, se, psk, {}
 *
 * Every step below is labelled with the token it implements. Each create/consume function works
 * on local copies of the chaining key and hash and writes the handshake only once the whole
 * message has been built or has authenticated, so a bad message leaves no trace.
 */
#include "noise.h"

#include <errno.h>
#include <string.h>

#include "crypto.h"

static const char noise_construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char noise_identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

/* One consumed initiation per peer per this many ns (INITIATIONS_PER_SECOND). */
#define INITIATION_INTERVAL_NS (AWG_NSEC_PER_SEC / AWG_INITIATIONS_PER_SECOND)
/* TAI64 label of the Unix epoch: 2^62 + 10 leap seconds. */
#define TAI64_EPOCH UINT64_C(0x400000000000000a)
/* Nanoseconds are truncated to 2^24 ns (~16.8 ms, the largest power of two below 20 ms). */
#define TAI64N_NSEC_MASK (~(uint32_t)((1u << 24) - 1))

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void awg_noise_tai64n(uint8_t out[AWG_TIMESTAMP_LEN], uint64_t wall_ns)
{
	uint64_t label = TAI64_EPOCH + wall_ns / AWG_NSEC_PER_SEC;
	uint32_t nsec = (uint32_t)(wall_ns % AWG_NSEC_PER_SEC) & TAI64N_NSEC_MASK;

	/*
	 * The precision loss is deliberate: a peer learns nothing finer than the flood limit
	 * lets it observe anyway.
	 */
	put_be32(out, (uint32_t)(label >> 32));
	put_be32(out + 4, (uint32_t)label);
	put_be32(out + 8, nsec);
}

/* H = HASH(H || data) */
static void mix_hash(uint8_t hash[AWG_HASH_LEN], const void *data, size_t len)
{
	awg_blake2s256(hash, hash, AWG_HASH_LEN, data, len);
}

/* (C, k) = KDF2(C, DH(priv, pub)), or C = KDF1(...) when key is NULL. False if DH is zero. */
static bool mix_dh(uint8_t chaining_key[AWG_HASH_LEN], uint8_t *key,
		   const uint8_t priv[AWG_PRIVATE_KEY_LEN], const uint8_t pub[AWG_PUBLIC_KEY_LEN])
{
	uint8_t dh[AWG_PUBLIC_KEY_LEN];
	bool ok;

	ok = awg_x25519(dh, priv, pub);
	if (ok)
		awg_kdf(chaining_key, key, NULL, chaining_key, dh, sizeof(dh));
	awg_wipe(dh, sizeof(dh));
	return ok;
}

/* ss with the DH precomputed at init; all-zero means the peer key was unusable. */
static bool mix_precomputed_dh(uint8_t chaining_key[AWG_HASH_LEN],
			       uint8_t key[AWG_SYMMETRIC_KEY_LEN],
			       const uint8_t precomputed[AWG_SYMMETRIC_KEY_LEN])
{
	if (awg_is_zero(precomputed, AWG_SYMMETRIC_KEY_LEN))
		return false;
	awg_kdf(chaining_key, key, NULL, chaining_key, precomputed, AWG_SYMMETRIC_KEY_LEN);
	return true;
}

/* (C, tau, k) = KDF3(C, psk); H = HASH(H || tau) */
static void mix_psk(uint8_t chaining_key[AWG_HASH_LEN], uint8_t hash[AWG_HASH_LEN],
		    uint8_t key[AWG_SYMMETRIC_KEY_LEN], const uint8_t psk[AWG_SYMMETRIC_KEY_LEN])
{
	uint8_t tau[AWG_HASH_LEN];

	awg_kdf(chaining_key, tau, key, chaining_key, psk, AWG_SYMMETRIC_KEY_LEN);
	mix_hash(hash, tau, sizeof(tau));
	awg_wipe(tau, sizeof(tau));
}

/* C = KDF1(C, e); H = HASH(H || e) */
static void message_ephemeral(uint8_t chaining_key[AWG_HASH_LEN], uint8_t hash[AWG_HASH_LEN],
			      const uint8_t ephemeral[AWG_PUBLIC_KEY_LEN])
{
	mix_hash(hash, ephemeral, AWG_PUBLIC_KEY_LEN);
	awg_kdf(chaining_key, NULL, NULL, chaining_key, ephemeral, AWG_PUBLIC_KEY_LEN);
}

/* dst = AEAD(k, 0, src, H); H = HASH(H || dst) */
static void message_encrypt(uint8_t *dst, const uint8_t *src, size_t len,
			    const uint8_t key[AWG_SYMMETRIC_KEY_LEN], uint8_t hash[AWG_HASH_LEN])
{
	awg_aead_encrypt(dst, src, len, hash, AWG_HASH_LEN, 0, key);
	mix_hash(hash, dst, awg_encrypted_len(len));
}

/* dst = AEAD-open(k, 0, src, H); H = HASH(H || src). H is left alone on failure. */
static bool message_decrypt(uint8_t *dst, const uint8_t *src, size_t src_len,
			    const uint8_t key[AWG_SYMMETRIC_KEY_LEN], uint8_t hash[AWG_HASH_LEN])
{
	if (!awg_aead_decrypt(dst, src, src_len, hash, AWG_HASH_LEN, 0, key))
		return false;
	mix_hash(hash, src, src_len);
	return true;
}

/* A fresh clamped ephemeral, drawn through the environment so tests are deterministic. */
static bool new_ephemeral(uint8_t priv[AWG_PRIVATE_KEY_LEN], uint8_t pub[AWG_PUBLIC_KEY_LEN],
			  const struct awg_env *env)
{
	awg_env_random(env, priv, AWG_PRIVATE_KEY_LEN);
	awg_x25519_clamp(priv);
	return awg_x25519_public(pub, priv);
}

int awg_noise_identity_init(struct awg_static_identity *id, const uint8_t private_key[32])
{
	awg_wipe(id, sizeof(*id));
	/* C0 = HASH(construction); H0 = HASH(C0 || identifier) */
	awg_blake2s256(id->initial_chaining_key, noise_construction,
		       sizeof(noise_construction) - 1, NULL, 0);
	awg_blake2s256(id->initial_hash, id->initial_chaining_key, AWG_HASH_LEN, noise_identifier,
		       sizeof(noise_identifier) - 1);
	if (awg_is_zero(private_key, AWG_PRIVATE_KEY_LEN))
		return 0;

	memcpy(id->static_private, private_key, AWG_PRIVATE_KEY_LEN);
	awg_x25519_clamp(id->static_private);
	if (!awg_x25519_public(id->static_public, id->static_private)) {
		awg_noise_identity_wipe(id);
		return -EINVAL;
	}
	/* Initiations to us start from H = HASH(H0 || S_pub_r): precompute it once. */
	awg_blake2s256(id->responder_hash, id->initial_hash, AWG_HASH_LEN, id->static_public,
		       AWG_PUBLIC_KEY_LEN);
	id->has_identity = true;
	return 0;
}

void awg_noise_identity_wipe(struct awg_static_identity *id)
{
	awg_wipe(id, sizeof(*id));
}

void awg_noise_handshake_precompute(struct awg_handshake *hs)
{
	const struct awg_static_identity *id = hs->static_identity;

	/* awg_x25519 leaves the output zero on failure, which mix_precomputed_dh refuses. */
	if (!id || !id->has_identity ||
	    !awg_x25519(hs->precomputed_static_static, id->static_private, hs->remote_static))
		awg_wipe(hs->precomputed_static_static, sizeof(hs->precomputed_static_static));
}

void awg_noise_handshake_set_psk(struct awg_handshake *hs, const uint8_t *psk)
{
	if (psk)
		memcpy(hs->preshared_key, psk, AWG_SYMMETRIC_KEY_LEN);
	else
		awg_wipe(hs->preshared_key, AWG_SYMMETRIC_KEY_LEN);
}

void awg_noise_handshake_init(struct awg_handshake *hs, const struct awg_static_identity *id,
			      const uint8_t remote_static[32], const uint8_t *psk)
{
	awg_wipe(hs, sizeof(*hs));
	hs->static_identity = id;
	memcpy(hs->remote_static, remote_static, AWG_PUBLIC_KEY_LEN);
	awg_noise_handshake_set_psk(hs, psk);
	awg_noise_handshake_precompute(hs);
	hs->state = AWG_HANDSHAKE_ZEROED;
}

/* Forgets the running handshake but not who the peer is or which timestamps it has used. */
static void handshake_zero(struct awg_handshake *hs)
{
	awg_wipe(hs->ephemeral_private, sizeof(hs->ephemeral_private));
	awg_wipe(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
	awg_wipe(hs->hash, sizeof(hs->hash));
	awg_wipe(hs->chaining_key, sizeof(hs->chaining_key));
	hs->local_index = 0;
	hs->remote_index = 0;
	hs->state = AWG_HANDSHAKE_ZEROED;
}

void awg_noise_handshake_clear(struct awg_handshake *hs)
{
	handshake_zero(hs);
}

void awg_noise_handshake_wipe(struct awg_handshake *hs)
{
	awg_wipe(hs, sizeof(*hs));
}

int awg_noise_create_initiation(struct awg_handshake *hs, struct awg_msg_initiation *msg,
				uint32_t local_index, const struct awg_env *env)
{
	const struct awg_static_identity *id = hs->static_identity;
	uint8_t chaining_key[AWG_HASH_LEN], hash[AWG_HASH_LEN], key[AWG_SYMMETRIC_KEY_LEN];
	uint8_t ephemeral[AWG_PRIVATE_KEY_LEN], timestamp[AWG_TIMESTAMP_LEN];
	int ret = -EINVAL;

	if (!id || !id->has_identity)
		goto out;

	/* C = C0; H = HASH(H0 || S_pub_r) */
	memcpy(chaining_key, id->initial_chaining_key, AWG_HASH_LEN);
	awg_blake2s256(hash, id->initial_hash, AWG_HASH_LEN, hs->remote_static,
		       AWG_PUBLIC_KEY_LEN);

	/* e */
	if (!new_ephemeral(ephemeral, msg->unencrypted_ephemeral, env))
		goto out;
	message_ephemeral(chaining_key, hash, msg->unencrypted_ephemeral);

	/* es */
	if (!mix_dh(chaining_key, key, ephemeral, hs->remote_static))
		goto out;

	/* s */
	message_encrypt(msg->encrypted_static, id->static_public, AWG_PUBLIC_KEY_LEN, key, hash);

	/* ss */
	if (!mix_precomputed_dh(chaining_key, key, hs->precomputed_static_static))
		goto out;

	/* {t} */
	awg_noise_tai64n(timestamp, awg_env_wall_ns(env));
	message_encrypt(msg->encrypted_timestamp, timestamp, AWG_TIMESTAMP_LEN, key, hash);

	awg_le32_put(msg->sender_index, local_index);

	/* Any earlier handshake of ours is superseded; its response will no longer match. */
	handshake_zero(hs);
	memcpy(hs->chaining_key, chaining_key, AWG_HASH_LEN);
	memcpy(hs->hash, hash, AWG_HASH_LEN);
	memcpy(hs->ephemeral_private, ephemeral, AWG_PRIVATE_KEY_LEN);
	hs->local_index = local_index;
	hs->state = AWG_HANDSHAKE_CREATED_INITIATION;
	ret = 0;
out:
	awg_wipe(chaining_key, sizeof(chaining_key));
	awg_wipe(hash, sizeof(hash));
	awg_wipe(key, sizeof(key));
	awg_wipe(ephemeral, sizeof(ephemeral));
	awg_wipe(timestamp, sizeof(timestamp));
	return ret;
}

/* Replay: the timestamp must be strictly newer. Flood: at most one per INITIATION_INTERVAL_NS. */
static bool initiation_is_fresh(const struct awg_handshake *hs,
				const uint8_t timestamp[AWG_TIMESTAMP_LEN], uint64_t now_ns)
{
	/* Big-endian TAI64N compares as bytes; timestamps are not secret, memcmp is fine. */
	if (memcmp(timestamp, hs->latest_timestamp, AWG_TIMESTAMP_LEN) <= 0)
		return false;
	if (hs->consumed_any_initiation &&
	    now_ns < hs->last_initiation_consumption_ns + INITIATION_INTERVAL_NS)
		return false;
	return true;
}

struct awg_handshake *awg_noise_consume_initiation(const struct awg_msg_initiation *msg,
						   const struct awg_static_identity *id,
						   struct awg_handshake *(*lookup)(void *ctx,
						   const uint8_t remote_static[32]),
						   void *lookup_ctx,
						   const struct awg_env *env)
{
	uint8_t chaining_key[AWG_HASH_LEN], hash[AWG_HASH_LEN], key[AWG_SYMMETRIC_KEY_LEN];
	uint8_t s[AWG_PUBLIC_KEY_LEN], e[AWG_PUBLIC_KEY_LEN], t[AWG_TIMESTAMP_LEN];
	struct awg_handshake *hs, *ret = NULL;
	uint64_t now_ns;

	if (!id->has_identity)
		goto out;

	/* C = C0; H = HASH(H0 || S_pub_r), precomputed */
	memcpy(chaining_key, id->initial_chaining_key, AWG_HASH_LEN);
	memcpy(hash, id->responder_hash, AWG_HASH_LEN);

	/* e */
	memcpy(e, msg->unencrypted_ephemeral, AWG_PUBLIC_KEY_LEN);
	message_ephemeral(chaining_key, hash, e);

	/* es */
	if (!mix_dh(chaining_key, key, id->static_private, e))
		goto out;

	/* s */
	if (!message_decrypt(s, msg->encrypted_static, sizeof(msg->encrypted_static), key, hash))
		goto out;

	/* Only now, with s authenticated under es, do we know which peer this claims to be. */
	hs = lookup(lookup_ctx, s);
	if (!hs || hs->static_identity != id)
		goto out;

	/* ss */
	if (!mix_precomputed_dh(chaining_key, key, hs->precomputed_static_static))
		goto out;

	/* {t} */
	if (!message_decrypt(t, msg->encrypted_timestamp, sizeof(msg->encrypted_timestamp), key,
			     hash))
		goto out;

	now_ns = awg_env_mono_ns(env);
	if (!initiation_is_fresh(hs, t, now_ns))
		goto out;

	/* Authentic and fresh: commit. Whatever we had running with this peer is abandoned. */
	handshake_zero(hs);
	memcpy(hs->remote_ephemeral, e, AWG_PUBLIC_KEY_LEN);
	memcpy(hs->latest_timestamp, t, AWG_TIMESTAMP_LEN);
	memcpy(hs->hash, hash, AWG_HASH_LEN);
	memcpy(hs->chaining_key, chaining_key, AWG_HASH_LEN);
	hs->remote_index = awg_le32_get(msg->sender_index);
	hs->last_initiation_consumption_ns = now_ns;
	hs->consumed_any_initiation = true;
	hs->state = AWG_HANDSHAKE_CONSUMED_INITIATION;
	ret = hs;
out:
	awg_wipe(chaining_key, sizeof(chaining_key));
	awg_wipe(hash, sizeof(hash));
	awg_wipe(key, sizeof(key));
	awg_wipe(t, sizeof(t));
	return ret;
}

int awg_noise_create_response(struct awg_handshake *hs, struct awg_msg_response *msg,
			      uint32_t local_index, const struct awg_env *env)
{
	uint8_t chaining_key[AWG_HASH_LEN], hash[AWG_HASH_LEN], key[AWG_SYMMETRIC_KEY_LEN];
	uint8_t ephemeral[AWG_PRIVATE_KEY_LEN];
	int ret = -EINVAL;

	if (hs->state != AWG_HANDSHAKE_CONSUMED_INITIATION)
		goto out;
	ret = -EBADMSG;
	memcpy(chaining_key, hs->chaining_key, AWG_HASH_LEN);
	memcpy(hash, hs->hash, AWG_HASH_LEN);

	/* e */
	if (!new_ephemeral(ephemeral, msg->unencrypted_ephemeral, env))
		goto out;
	message_ephemeral(chaining_key, hash, msg->unencrypted_ephemeral);

	/* ee */
	if (!mix_dh(chaining_key, NULL, ephemeral, hs->remote_ephemeral))
		goto out;

	/* se */
	if (!mix_dh(chaining_key, NULL, ephemeral, hs->remote_static))
		goto out;

	/* psk */
	mix_psk(chaining_key, hash, key, hs->preshared_key);

	/* {} */
	message_encrypt(msg->encrypted_nothing, NULL, 0, key, hash);

	awg_le32_put(msg->sender_index, local_index);
	awg_le32_put(msg->receiver_index, hs->remote_index);

	/* Our ephemeral is not kept: only C is needed from here on. */
	memcpy(hs->chaining_key, chaining_key, AWG_HASH_LEN);
	memcpy(hs->hash, hash, AWG_HASH_LEN);
	hs->local_index = local_index;
	hs->state = AWG_HANDSHAKE_CREATED_RESPONSE;
	ret = 0;
out:
	awg_wipe(chaining_key, sizeof(chaining_key));
	awg_wipe(hash, sizeof(hash));
	awg_wipe(key, sizeof(key));
	awg_wipe(ephemeral, sizeof(ephemeral));
	return ret;
}

int awg_noise_consume_response(struct awg_handshake *hs, const struct awg_msg_response *msg)
{
	const struct awg_static_identity *id = hs->static_identity;
	uint8_t chaining_key[AWG_HASH_LEN], hash[AWG_HASH_LEN], key[AWG_SYMMETRIC_KEY_LEN];
	uint8_t e[AWG_PUBLIC_KEY_LEN], nothing[1];
	int ret = -EINVAL;

	if (!id || !id->has_identity || hs->state != AWG_HANDSHAKE_CREATED_INITIATION ||
	    awg_le32_get(msg->receiver_index) != hs->local_index)
		goto out;
	ret = -EBADMSG;
	memcpy(chaining_key, hs->chaining_key, AWG_HASH_LEN);
	memcpy(hash, hs->hash, AWG_HASH_LEN);

	/* e */
	memcpy(e, msg->unencrypted_ephemeral, AWG_PUBLIC_KEY_LEN);
	message_ephemeral(chaining_key, hash, e);

	/* ee */
	if (!mix_dh(chaining_key, NULL, hs->ephemeral_private, e))
		goto out;

	/* se */
	if (!mix_dh(chaining_key, NULL, id->static_private, e))
		goto out;

	/* psk */
	mix_psk(chaining_key, hash, key, hs->preshared_key);

	/* {} */
	if (!message_decrypt(nothing, msg->encrypted_nothing, sizeof(msg->encrypted_nothing), key,
			     hash))
		goto out;

	/* The responder has proven it holds S_priv_r and the PSK: commit. */
	memcpy(hs->remote_ephemeral, e, AWG_PUBLIC_KEY_LEN);
	memcpy(hs->chaining_key, chaining_key, AWG_HASH_LEN);
	memcpy(hs->hash, hash, AWG_HASH_LEN);
	awg_wipe(hs->ephemeral_private, sizeof(hs->ephemeral_private));
	hs->remote_index = awg_le32_get(msg->sender_index);
	hs->state = AWG_HANDSHAKE_CONSUMED_RESPONSE;
	ret = 0;
out:
	awg_wipe(chaining_key, sizeof(chaining_key));
	awg_wipe(hash, sizeof(hash));
	awg_wipe(key, sizeof(key));
	return ret;
}

int awg_noise_begin_session(struct awg_handshake *hs, struct awg_keypair *kp, uint64_t now_ns,
			    uint64_t reject_after_ns)
{
	awg_keypair_wipe(kp);
	if (hs->state != AWG_HANDSHAKE_CREATED_RESPONSE &&
	    hs->state != AWG_HANDSHAKE_CONSUMED_RESPONSE)
		return -EINVAL;

	kp->is_initiator = hs->state == AWG_HANDSHAKE_CONSUMED_RESPONSE;
	/* (T_i->r, T_r->i) = KDF2(C, empty): the initiator sends with the first. */
	if (kp->is_initiator)
		awg_kdf(kp->sending_key, kp->receiving_key, NULL, hs->chaining_key, NULL, 0);
	else
		awg_kdf(kp->receiving_key, kp->sending_key, NULL, hs->chaining_key, NULL, 0);
	kp->sending_counter = 0;
	awg_counter_init(&kp->receiving_counter);
	kp->birth_ns = now_ns;
	kp->reject_after_ns = reject_after_ns ? reject_after_ns : AWG_REJECT_AFTER_NS;
	kp->local_index = hs->local_index;
	kp->remote_index = hs->remote_index;
	kp->sending_valid = true;
	kp->valid = true;

	handshake_zero(hs);
	return 0;
}
