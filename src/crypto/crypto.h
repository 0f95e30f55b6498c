/* SPDX-License-Identifier: MIT */
/*
 * Thin wrappers over OpenSSL 3 libcrypto and libsodium: every primitive the protocol uses.
 * Nothing here implements a primitive; each function forwards to a vetted library.
 *
 * Functions returning bool report authentication / validity (true = ok). Functions returning
 * int return 0 or -errno. Every function is safe to call from several threads.
 */
#ifndef _AWG_CRYPTO_H
#define _AWG_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum awg_crypto_lengths {
	AWG_CRYPTO_KEY_LEN = 32,
	AWG_CRYPTO_HASH_LEN = 32,	/* BLAKE2s-256 */
	AWG_CRYPTO_MAC_LEN = 16,	/* keyed BLAKE2s-128 */
	AWG_CRYPTO_TAG_LEN = 16,	/* Poly1305 */
	AWG_CRYPTO_XNONCE_LEN = 24,	/* XChaCha20 */
	AWG_CRYPTO_NONCE_LEN = 12,	/* ChaCha20 IETF */
	AWG_CRYPTO_KEY_B64_LEN = 44,	/* base64 of 32 bytes, without NUL */
	AWG_CRYPTO_KEY_HEX_LEN = 64,	/* hex of 32 bytes, without NUL */
};

/* Loads the algorithms once. Optional: every function below calls it lazily. */
int awg_crypto_init(void);
/*
 * Frees the calling thread's cached contexts (wiping the key material they hold) and its
 * unused random bytes. Call it before a thread that used these functions exits; they work
 * again afterwards (the contexts are made anew).
 */
void awg_crypto_thread_cleanup(void);

/* --- X25519 (RFC 7748) --- */

/* Clamps a private key in place (k[0] &= 248; k[31] = (k[31] & 127) | 64). */
void awg_x25519_clamp(uint8_t key[AWG_CRYPTO_KEY_LEN]);
/* Generates a fresh clamped private key from the CSPRNG. */
void awg_x25519_generate(uint8_t priv[AWG_CRYPTO_KEY_LEN]);
/* pub = X25519(priv, 9). Returns false if the library fails. */
bool awg_x25519_public(uint8_t pub[AWG_CRYPTO_KEY_LEN], const uint8_t priv[AWG_CRYPTO_KEY_LEN]);
/* out = X25519(priv, pub). Returns false on library failure or an all-zero result. */
bool awg_x25519(uint8_t out[AWG_CRYPTO_KEY_LEN], const uint8_t priv[AWG_CRYPTO_KEY_LEN],
		const uint8_t pub[AWG_CRYPTO_KEY_LEN]);

/* --- BLAKE2s (RFC 7693) --- */

/* out = BLAKE2s-256(a || b); b may be NULL with blen 0. */
void awg_blake2s256(uint8_t out[AWG_CRYPTO_HASH_LEN], const void *a, size_t alen, const void *b,
		    size_t blen);
/* out = keyed BLAKE2s with outlen bytes (1..32), key of keylen bytes (1..32). */
void awg_blake2s_keyed(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen,
		       const void *data, size_t len);
/* out = HMAC-BLAKE2s-256(key, data). */
void awg_hmac_blake2s(uint8_t out[AWG_CRYPTO_HASH_LEN], const uint8_t *key, size_t keylen,
		      const void *data, size_t len);
/*
 * WireGuard KDF (HKDF over HMAC-BLAKE2s): PRK = HMAC(ck, input); T1 = HMAC(PRK, 0x01);
 * T2 = HMAC(PRK, T1 || 0x02); T3 = HMAC(PRK, T2 || 0x03). t2 and t3 may be NULL. Each output is
 * 32 bytes. Intermediates are wiped.
 */
void awg_kdf(uint8_t t1[AWG_CRYPTO_HASH_LEN], uint8_t *t2, uint8_t *t3,
	     const uint8_t ck[AWG_CRYPTO_HASH_LEN], const void *input, size_t inlen);

/* --- ChaCha20-Poly1305 (RFC 8439) with WireGuard's nonce: 4 zero bytes || LE64(counter) --- */

/* dst gets len + 16 bytes. dst may equal src. */
void awg_aead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
		      size_t adlen, uint64_t counter, const uint8_t key[AWG_CRYPTO_KEY_LEN]);
/* srclen includes the tag; dst gets srclen - 16 bytes. Returns false if authentication fails. */
bool awg_aead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		      size_t adlen, uint64_t counter, const uint8_t key[AWG_CRYPTO_KEY_LEN]);

/* --- XChaCha20-Poly1305 (cookie replies) --- */

void awg_xaead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
		       size_t adlen, const uint8_t nonce[AWG_CRYPTO_XNONCE_LEN],
		       const uint8_t key[AWG_CRYPTO_KEY_LEN]);
bool awg_xaead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		       size_t adlen, const uint8_t nonce[AWG_CRYPTO_XNONCE_LEN],
		       const uint8_t key[AWG_CRYPTO_KEY_LEN]);

/* --- ChaCha20 keystream (header protection): out = in XOR ChaCha20(key, nonce, ctr 0) --- */

void awg_chacha20_xor(uint8_t *out, const uint8_t *in, size_t len,
		      const uint8_t nonce[AWG_CRYPTO_NONCE_LEN], const uint8_t key[AWG_CRYPTO_KEY_LEN]);

/* --- Randomness, comparison, wiping --- */

void awg_random_bytes(void *buf, size_t len);
/* Constant-time equality of two buffers of the same length. */
bool awg_equal(const void *a, const void *b, size_t len);
/* Constant-time test for all-zero. */
bool awg_is_zero(const void *p, size_t len);
/* Wipes memory in a way the compiler cannot elide. */
void awg_wipe(void *p, size_t len);

/* --- Key encodings (constant-time, libsodium) --- */

/* out gets 44 chars + NUL. */
void awg_key_to_base64(char out[AWG_CRYPTO_KEY_B64_LEN + 1], const uint8_t key[AWG_CRYPTO_KEY_LEN]);
/* Accepts exactly one canonical 44-char padded base64 key; len is the text length. */
bool awg_key_from_base64(uint8_t key[AWG_CRYPTO_KEY_LEN], const char *text, size_t len);
/* out gets 64 lower-case hex chars + NUL. */
void awg_key_to_hex(char out[AWG_CRYPTO_KEY_HEX_LEN + 1], const uint8_t key[AWG_CRYPTO_KEY_LEN]);
/* Accepts exactly 64 hex digits (either case). */
bool awg_key_from_hex(uint8_t key[AWG_CRYPTO_KEY_LEN], const char *text, size_t len);

#endif /* _AWG_CRYPTO_H */
