// SPDX-License-Identifier: MIT
/* Owns mac1/mac2, the responder's cookie secret and replies, and the initiator's cookies. */
#include "cookie.h"

#include <errno.h>
#include <string.h>

#include "crypto.h"

#define NSEC_PER_SEC UINT64_C(1000000000)
/* Both the secret's lifetime and a held cookie's usefulness: COOKIE_REFRESH_TIME. */
#define COOKIE_MAX_AGE_NS ((uint64_t)AWG_COOKIE_SECRET_MAX_AGE * NSEC_PER_SEC)

static const char mac1_label[] = "mac1----";
static const char cookie_label[] = "cookie--";
#define LABEL_LEN 8
_Static_assert(sizeof(mac1_label) == LABEL_LEN + 1 && sizeof(cookie_label) == LABEL_LEN + 1,
	       "labels are 8 bytes");

/* HASH(label || public key) */
static void derive_key(uint8_t key[AWG_SYMMETRIC_KEY_LEN], const char *label,
		       const uint8_t public_key[AWG_PUBLIC_KEY_LEN])
{
	awg_blake2s256(key, label, LABEL_LEN, public_key, AWG_PUBLIC_KEY_LEN);
}

/* True once at least max_age_ns has passed since birth_ns. */
static bool has_expired(uint64_t birth_ns, uint64_t max_age_ns, uint64_t now_ns)
{
	return now_ns < birth_ns || now_ns - birth_ns >= max_age_ns;
}

/* mac1 = MAC(key, msg[0 .. off_mac1)) */
static void compute_mac1(uint8_t mac[AWG_COOKIE_LEN], const uint8_t *msg, size_t msg_len,
			 const uint8_t key[AWG_SYMMETRIC_KEY_LEN])
{
	awg_blake2s_keyed(mac, AWG_COOKIE_LEN, key, AWG_SYMMETRIC_KEY_LEN, msg,
			  awg_msg_mac1_offset(msg_len));
}

/* mac2 = MAC(cookie, msg[0 .. off_mac2)) */
static void compute_mac2(uint8_t mac[AWG_COOKIE_LEN], const uint8_t *msg, size_t msg_len,
			 const uint8_t cookie[AWG_COOKIE_LEN])
{
	awg_blake2s_keyed(mac, AWG_COOKIE_LEN, cookie, AWG_COOKIE_LEN, msg,
			  awg_msg_mac2_offset(msg_len));
}

void awg_cookie_checker_init(struct awg_cookie_checker *checker, const uint8_t *own_public)
{
	awg_wipe(checker, sizeof(*checker));
	if (!own_public)
		return;
	derive_key(checker->cookie_encryption_key, cookie_label, own_public);
	derive_key(checker->message_mac1_key, mac1_label, own_public);
}

void awg_cookie_checker_wipe(struct awg_cookie_checker *checker)
{
	awg_wipe(checker, sizeof(*checker));
}

/*
 * The cookie a source address must echo in mac2. The secret is replaced every 120 s, so a
 * cookie outlives its issue by at most that long and an attacker cannot stockpile them.
 */
static void make_cookie(uint8_t cookie[AWG_COOKIE_LEN], struct awg_cookie_checker *checker,
			const uint8_t *src, size_t src_len, const struct awg_env *env)
{
	uint64_t now_ns = awg_env_mono_ns(env);

	if (!checker->has_secret || has_expired(checker->secret_birth_ns, COOKIE_MAX_AGE_NS,
						 now_ns)) {
		awg_env_random(env, checker->secret, sizeof(checker->secret));
		checker->secret_birth_ns = now_ns;
		checker->has_secret = true;
	}
	awg_blake2s_keyed(cookie, AWG_COOKIE_LEN, checker->secret, sizeof(checker->secret), src,
			  src_len);
}

enum awg_cookie_mac_state awg_cookie_validate(struct awg_cookie_checker *checker,
					      const uint8_t *msg, size_t msg_len,
					      const uint8_t *src, size_t src_len, bool check_cookie,
					      const struct awg_env *env)
{
	const struct awg_msg_macs *macs;
	enum awg_cookie_mac_state ret = AWG_COOKIE_INVALID_MAC;
	uint8_t computed[AWG_COOKIE_LEN], cookie[AWG_COOKIE_LEN];

	/* Room for at least the type, a sender index and both macs. */
	if (msg_len < 8 + sizeof(*macs))
		return ret;
	macs = (const struct awg_msg_macs *)(msg + awg_msg_mac1_offset(msg_len));

	compute_mac1(computed, msg, msg_len, checker->message_mac1_key);
	if (!awg_equal(computed, macs->mac1, AWG_COOKIE_LEN))
		goto out;
	ret = AWG_COOKIE_VALID_MAC_BUT_NO_COOKIE;
	if (!check_cookie)
		goto out;

	make_cookie(cookie, checker, src, src_len, env);
	compute_mac2(computed, msg, msg_len, cookie);
	if (!awg_equal(computed, macs->mac2, AWG_COOKIE_LEN))
		goto out;
	ret = AWG_COOKIE_VALID_MAC_WITH_COOKIE;
out:
	awg_wipe(cookie, sizeof(cookie));
	return ret;
}

int awg_cookie_create_reply(struct awg_cookie_checker *checker, struct awg_msg_cookie *reply,
			    const uint8_t *msg, size_t msg_len, const uint8_t *src, size_t src_len,
			    const struct awg_env *env)
{
	uint8_t cookie[AWG_COOKIE_LEN];
	const uint8_t *mac1;

	if (msg_len < 8 + sizeof(struct awg_msg_macs))
		return -EINVAL;
	mac1 = msg + awg_msg_mac1_offset(msg_len);

	/* Initiations and responses both carry their sender index at bytes 4..7. */
	memcpy(reply->receiver_index, msg + 4, sizeof(reply->receiver_index));
	awg_env_random(env, reply->nonce, sizeof(reply->nonce));
	make_cookie(cookie, checker, src, src_len, env);
	/* AD = their mac1: only the sender of that message can use the reply. */
	awg_xaead_encrypt(reply->encrypted_cookie, cookie, AWG_COOKIE_LEN, mac1, AWG_COOKIE_LEN,
			  reply->nonce, checker->cookie_encryption_key);
	awg_wipe(cookie, sizeof(cookie));
	return 0;
}

void awg_cookie_init(struct awg_cookie *cookie, const uint8_t peer_public[32])
{
	awg_wipe(cookie, sizeof(*cookie));
	derive_key(cookie->cookie_decryption_key, cookie_label, peer_public);
	derive_key(cookie->message_mac1_key, mac1_label, peer_public);
}

void awg_cookie_wipe(struct awg_cookie *cookie)
{
	awg_wipe(cookie, sizeof(*cookie));
}

void awg_cookie_add_macs(struct awg_cookie *cookie, uint8_t *msg, size_t msg_len,
			 const struct awg_env *env)
{
	uint8_t *mac1 = msg + awg_msg_mac1_offset(msg_len);
	uint8_t *mac2 = msg + awg_msg_mac2_offset(msg_len);

	compute_mac1(mac1, msg, msg_len, cookie->message_mac1_key);
	memcpy(cookie->last_mac1_sent, mac1, AWG_COOKIE_LEN);
	cookie->have_sent_mac1 = true;

	/* mac2 covers mac1, so it is computed second. */
	if (cookie->is_valid &&
	    !has_expired(cookie->birth_ns, COOKIE_MAX_AGE_NS, awg_env_mono_ns(env)))
		compute_mac2(mac2, msg, msg_len, cookie->cookie);
	else
		memset(mac2, 0, AWG_COOKIE_LEN);
}

int awg_cookie_consume_reply(struct awg_cookie *cookie, const struct awg_msg_cookie *reply,
			     const struct awg_env *env)
{
	uint8_t plain[AWG_COOKIE_LEN];
	int ret = -EINVAL;

	/* An unsolicited reply (or a second one for the same mac1) is ignored. */
	if (!cookie->have_sent_mac1)
		goto out;
	ret = -EBADMSG;
	if (!awg_xaead_decrypt(plain, reply->encrypted_cookie, sizeof(reply->encrypted_cookie),
			       cookie->last_mac1_sent, AWG_COOKIE_LEN, reply->nonce,
			       cookie->cookie_decryption_key))
		goto out;

	memcpy(cookie->cookie, plain, AWG_COOKIE_LEN);
	cookie->birth_ns = awg_env_mono_ns(env);
	cookie->is_valid = true;
	cookie->have_sent_mac1 = false;
	ret = 0;
out:
	awg_wipe(plain, sizeof(plain));
	return ret;
}

bool awg_cookie_load_update(struct awg_cookie_load *load, size_t queue_len, size_t queue_cap,
			    uint64_t now_ns)
{
	/* A device with no handshake queue (queue_cap 0) is never congested. */
	if (queue_cap && queue_len >= queue_cap / 8) {
		load->last_under_load_ns = now_ns;
		load->ever_under_load = true;
		return true;
	}
	/* Stay suspicious for a while, so an attacker cannot toggle us by pausing. */
	return load->ever_under_load &&
	       !has_expired(load->last_under_load_ns, AWG_COOKIE_LOAD_STICKY_NS, now_ns);
}
