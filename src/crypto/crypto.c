// SPDX-License-Identifier: MIT
/*
 * Owns the library handles behind crypto.h: fetched OpenSSL algorithms (once per process) and
 * per-thread cached contexts, so a packet does not pay for an algorithm lookup.
 */
#include "crypto.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sodium.h>

/* Written once under pthread_once, read-only afterwards. */
static struct {
	EVP_MD *blake2s;
	EVP_MAC *blake2smac;
	EVP_MAC *hmac;
	EVP_CIPHER *chapoly;
	int status;
} algs;

static pthread_once_t algs_once = PTHREAD_ONCE_INIT;

/* Per-thread contexts, created on first use; each thread owns its own. */
static _Thread_local EVP_MD_CTX *tl_md;
static _Thread_local EVP_MAC_CTX *tl_b2mac;
static _Thread_local EVP_MAC_CTX *tl_hmac;
static _Thread_local EVP_CIPHER_CTX *tl_cipher;

/* Defined with the random pool below. */
static void pool_wipe(void);

static void load_algs(void)
{
	/*
	 * fork() copies the calling thread's random pool: without this, a child that draws
	 * before exec would repeat its parent's bytes (nonces, keys).
	 */
	if (pthread_atfork(NULL, NULL, pool_wipe) != 0) {
		algs.status = -ENOMEM;
		return;
	}
	if (sodium_init() < 0) {
		algs.status = -EIO;
		return;
	}
	/*
	 * No openssl.cnf: we name every algorithm ourselves, and not parsing the system config
	 * keeps its engines and providers (and their pages) out of the process.
	 */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1) {
		algs.status = -EIO;
		return;
	}
	algs.blake2s = EVP_MD_fetch(NULL, "BLAKE2S-256", NULL);
	algs.blake2smac = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	algs.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	algs.chapoly = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	if (!algs.blake2s || !algs.blake2smac || !algs.hmac || !algs.chapoly)
		algs.status = -ENOSYS;
}

int awg_crypto_init(void)
{
	pthread_once(&algs_once, load_algs);
	return algs.status;
}

void awg_crypto_thread_cleanup(void)
{
	EVP_MD_CTX_free(tl_md);
	EVP_MAC_CTX_free(tl_b2mac);
	EVP_MAC_CTX_free(tl_hmac);
	EVP_CIPHER_CTX_free(tl_cipher);
	tl_md = NULL;
	tl_b2mac = tl_hmac = NULL;
	tl_cipher = NULL;
	pool_wipe();
}

/*
 * A missing algorithm or an allocation failure inside libcrypto leaves no safe way to go on:
 * returning unauthenticated or zero output would be worse than stopping.
 */
static void fatal(const char *what)
{
	(void)what;
	abort();
}

static void need_init(void)
{
	if (awg_crypto_init() < 0)
		fatal("crypto init");
}

void awg_x25519_clamp(uint8_t key[AWG_CRYPTO_KEY_LEN])
{
	key[0] &= 248;
	key[31] = (key[31] & 127) | 64;
}

void awg_x25519_generate(uint8_t priv[AWG_CRYPTO_KEY_LEN])
{
	awg_random_bytes(priv, AWG_CRYPTO_KEY_LEN);
	awg_x25519_clamp(priv);
}

bool awg_x25519_public(uint8_t pub[AWG_CRYPTO_KEY_LEN], const uint8_t priv[AWG_CRYPTO_KEY_LEN])
{
	EVP_PKEY *key;
	size_t len = AWG_CRYPTO_KEY_LEN;
	bool ok;

	need_init();
	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, AWG_CRYPTO_KEY_LEN);
	if (!key)
		return false;
	ok = EVP_PKEY_get_raw_public_key(key, pub, &len) == 1 && len == AWG_CRYPTO_KEY_LEN;
	EVP_PKEY_free(key);
	return ok;
}

bool awg_x25519(uint8_t out[AWG_CRYPTO_KEY_LEN], const uint8_t priv[AWG_CRYPTO_KEY_LEN],
		const uint8_t pub[AWG_CRYPTO_KEY_LEN])
{
	EVP_PKEY *ours = NULL, *theirs = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = AWG_CRYPTO_KEY_LEN;
	bool ok = false;

	need_init();
	ours = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, AWG_CRYPTO_KEY_LEN);
	theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, AWG_CRYPTO_KEY_LEN);
	if (!ours || !theirs)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ours, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer_ex(ctx, theirs, 0) != 1)
		goto out;
	/* libcrypto refuses an all-zero shared secret (small-order point); we check again. */
	ok = EVP_PKEY_derive(ctx, out, &len) == 1 && len == AWG_CRYPTO_KEY_LEN &&
	     !awg_is_zero(out, AWG_CRYPTO_KEY_LEN);
out:
	if (!ok)
		awg_wipe(out, AWG_CRYPTO_KEY_LEN);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(ours);
	EVP_PKEY_free(theirs);
	return ok;
}

void awg_blake2s256(uint8_t out[AWG_CRYPTO_HASH_LEN], const void *a, size_t alen, const void *b,
		    size_t blen)
{
	unsigned int len = AWG_CRYPTO_HASH_LEN;

	need_init();
	if (!tl_md && !(tl_md = EVP_MD_CTX_new()))
		fatal("md ctx");
	if (EVP_DigestInit_ex2(tl_md, algs.blake2s, NULL) != 1 ||
	    (alen && EVP_DigestUpdate(tl_md, a, alen) != 1) ||
	    (blen && EVP_DigestUpdate(tl_md, b, blen) != 1) ||
	    EVP_DigestFinal_ex(tl_md, out, &len) != 1)
		fatal("blake2s");
}

static void mac_run(EVP_MAC_CTX *ctx, const OSSL_PARAM *params, uint8_t *out, size_t outlen,
		    const uint8_t *key, size_t keylen, const void *d1, size_t l1, const void *d2,
		    size_t l2)
{
	size_t got = 0;

	if (EVP_MAC_init(ctx, key, keylen, params) != 1 ||
	    (l1 && EVP_MAC_update(ctx, d1, l1) != 1) ||
	    (l2 && EVP_MAC_update(ctx, d2, l2) != 1) ||
	    EVP_MAC_final(ctx, out, &got, outlen) != 1 || got != outlen)
		fatal("mac");
}

void awg_blake2s_keyed(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen,
		       const void *data, size_t len)
{
	OSSL_PARAM params[2];

	need_init();
	if (!tl_b2mac && !(tl_b2mac = EVP_MAC_CTX_new(algs.blake2smac)))
		fatal("blake2smac ctx");
	params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &outlen);
	params[1] = OSSL_PARAM_construct_end();
	mac_run(tl_b2mac, params, out, outlen, key, keylen, data, len, NULL, 0);
}

static void hmac2(uint8_t out[AWG_CRYPTO_HASH_LEN], const uint8_t *key, size_t keylen,
		  const void *d1, size_t l1, const void *d2, size_t l2)
{
	OSSL_PARAM params[2];

	need_init();
	if (!tl_hmac) {
		tl_hmac = EVP_MAC_CTX_new(algs.hmac);
		if (!tl_hmac)
			fatal("hmac ctx");
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							     (char *)"BLAKE2S-256", 0);
		params[1] = OSSL_PARAM_construct_end();
		if (EVP_MAC_CTX_set_params(tl_hmac, params) != 1)
			fatal("hmac digest");
	}
	mac_run(tl_hmac, NULL, out, AWG_CRYPTO_HASH_LEN, key, keylen, d1, l1, d2, l2);
}

void awg_hmac_blake2s(uint8_t out[AWG_CRYPTO_HASH_LEN], const uint8_t *key, size_t keylen,
		      const void *data, size_t len)
{
	hmac2(out, key, keylen, data, len, NULL, 0);
}

void awg_kdf(uint8_t t1[AWG_CRYPTO_HASH_LEN], uint8_t *t2, uint8_t *t3,
	     const uint8_t ck[AWG_CRYPTO_HASH_LEN], const void *input, size_t inlen)
{
	uint8_t prk[AWG_CRYPTO_HASH_LEN], t[AWG_CRYPTO_HASH_LEN];
	uint8_t ctr;

	hmac2(prk, ck, AWG_CRYPTO_HASH_LEN, input, inlen, NULL, 0);
	ctr = 1;
	hmac2(t, prk, sizeof(prk), &ctr, 1, NULL, 0);
	memcpy(t1, t, sizeof(t));
	if (t2) {
		ctr = 2;
		hmac2(t, prk, sizeof(prk), t, sizeof(t), &ctr, 1);
		memcpy(t2, t, sizeof(t));
	}
	if (t3) {
		ctr = 3;
		hmac2(t, prk, sizeof(prk), t, sizeof(t), &ctr, 1);
		memcpy(t3, t, sizeof(t));
	}
	awg_wipe(prk, sizeof(prk));
	awg_wipe(t, sizeof(t));
}

/*
 * The thread's ChaCha20-Poly1305 context. The cipher is bound once; later inits pass NULL for
 * it, which skips the provider context being torn down and rebuilt on every packet (that fixed
 * cost was about half the time of sealing a full-size packet).
 */
static EVP_CIPHER_CTX *cipher_ctx(const EVP_CIPHER **cipher)
{
	need_init();
	if (!tl_cipher) {
		tl_cipher = EVP_CIPHER_CTX_new();
		if (!tl_cipher || EVP_CipherInit_ex2(tl_cipher, algs.chapoly, NULL, NULL, 1, NULL) != 1)
			fatal("cipher ctx");
	}
	*cipher = NULL;
	return tl_cipher;
}

static void wg_nonce(uint8_t nonce[AWG_CRYPTO_NONCE_LEN], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

/*
 * OpenSSL's ChaCha20-Poly1305 is about 2.5x libsodium's on full-size packets, but each EVP call
 * costs a fixed ~500 ns of parameter plumbing; libsodium's has almost none. Both implement RFC
 * 8439, so short messages (ACKs, keepalives, handshake fields) take libsodium and the rest
 * OpenSSL. The crossover was measured at ~256 bytes on this project's x86-64 VMs.
 */
enum { AEAD_SODIUM_MAX = 256 };

/* Moves the tag in and out of the context without EVP_CIPHER_CTX_ctrl's translation layer. */
static int tag_param(EVP_CIPHER_CTX *ctx, uint8_t *tag, bool set)
{
	OSSL_PARAM p[2] = {
		OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag,
						  AWG_CRYPTO_TAG_LEN),
		OSSL_PARAM_construct_end(),
	};

	return set ? EVP_CIPHER_CTX_set_params(ctx, p) : EVP_CIPHER_CTX_get_params(ctx, p);
}

void awg_aead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
		      size_t adlen, uint64_t counter, const uint8_t key[AWG_CRYPTO_KEY_LEN])
{
	const EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *ctx;
	uint8_t nonce[AWG_CRYPTO_NONCE_LEN];
	int outl;

	wg_nonce(nonce, counter);
	if (len < AEAD_SODIUM_MAX) {
		need_init();
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(dst, dst + len, NULL, src, len,
								   ad, adlen, NULL, nonce, key);
		return;
	}
	ctx = cipher_ctx(&cipher);
	if (EVP_EncryptInit_ex2(ctx, cipher, key, nonce, NULL) != 1 ||
	    (adlen && EVP_EncryptUpdate(ctx, NULL, &outl, ad, (int)adlen) != 1) ||
	    EVP_EncryptUpdate(ctx, dst, &outl, src, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, dst + len, &outl) != 1 || tag_param(ctx, dst + len, false) != 1)
		fatal("aead encrypt");
}

bool awg_aead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		      size_t adlen, uint64_t counter, const uint8_t key[AWG_CRYPTO_KEY_LEN])
{
	const EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *ctx;
	uint8_t nonce[AWG_CRYPTO_NONCE_LEN], tag[AWG_CRYPTO_TAG_LEN];
	size_t len;
	int outl;

	if (srclen < AWG_CRYPTO_TAG_LEN)
		return false;
	len = srclen - AWG_CRYPTO_TAG_LEN;
	/* Copy the tag first: dst may overlap src. */
	memcpy(tag, src + len, sizeof(tag));
	wg_nonce(nonce, counter);
	if (len < AEAD_SODIUM_MAX) {
		/* Checks the tag before decrypting: nothing unauthenticated is written. */
		need_init();
		return crypto_aead_chacha20poly1305_ietf_decrypt_detached(dst, NULL, src, len, tag,
									  ad, adlen, nonce,
									  key) == 0;
	}
	ctx = cipher_ctx(&cipher);
	if (EVP_DecryptInit_ex2(ctx, cipher, key, nonce, NULL) != 1 ||
	    (adlen && EVP_DecryptUpdate(ctx, NULL, &outl, ad, (int)adlen) != 1) ||
	    EVP_DecryptUpdate(ctx, dst, &outl, src, (int)len) != 1 ||
	    tag_param(ctx, tag, true) != 1)
		fatal("aead decrypt");
	if (EVP_DecryptFinal_ex(ctx, dst + len, &outl) != 1) {
		/* Never leave unauthenticated plaintext behind. */
		awg_wipe(dst, len);
		return false;
	}
	return true;
}

void awg_xaead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad,
		       size_t adlen, const uint8_t nonce[AWG_CRYPTO_XNONCE_LEN],
		       const uint8_t key[AWG_CRYPTO_KEY_LEN])
{
	need_init();
	crypto_aead_xchacha20poly1305_ietf_encrypt(dst, NULL, src, len, ad, adlen, NULL, nonce,
						   key);
}

bool awg_xaead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		       size_t adlen, const uint8_t nonce[AWG_CRYPTO_XNONCE_LEN],
		       const uint8_t key[AWG_CRYPTO_KEY_LEN])
{
	need_init();
	if (srclen < AWG_CRYPTO_TAG_LEN)
		return false;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(dst, NULL, NULL, src, srclen, ad, adlen,
							  nonce, key) == 0;
}

void awg_chacha20_xor(uint8_t *out, const uint8_t *in, size_t len,
		      const uint8_t nonce[AWG_CRYPTO_NONCE_LEN], const uint8_t key[AWG_CRYPTO_KEY_LEN])
{
	need_init();
	crypto_stream_chacha20_ietf_xor_ic(out, in, len, nonce, 0, key);
}

/*
 * Every transport packet draws a few random bytes (prefix, magic header, padding); one
 * getrandom() per draw cost a fifth of the send path. So each thread keeps a pool filled from
 * a CSPRNG in one call, and hands it out front to back. Bytes are wiped from the pool as
 * they are handed out, so a later memory disclosure cannot reveal earlier draws (ephemeral keys
 * come from here too). Large requests bypass the pool.
 */
enum { RANDOM_POOL = 4096 };
static _Thread_local uint8_t tl_pool[RANDOM_POOL];
static _Thread_local size_t tl_pool_used = RANDOM_POOL;

static void pool_wipe(void)
{
	sodium_memzero(tl_pool, sizeof(tl_pool));
	tl_pool_used = RANDOM_POOL;
}

/*
 * OpenSSL's DRBG (seeded from the kernel, reseeded on its own schedule and after fork) fills
 * 4 KiB in a third of the time of a getrandom() call: the syscall showed up as 4-6% of the send
 * path with obfuscation on.
 */
static void refill_pool(void)
{
	if (RAND_bytes(tl_pool, sizeof(tl_pool)) != 1)
		randombytes_buf(tl_pool, sizeof(tl_pool));
}

void awg_random_bytes(void *buf, size_t len)
{
	uint8_t *out = buf;

	need_init();
	if (len > RANDOM_POOL / 4) {
		randombytes_buf(buf, len);
		return;
	}
	while (len) {
		size_t n;

		if (tl_pool_used == RANDOM_POOL) {
			refill_pool();
			tl_pool_used = 0;
		}
		n = RANDOM_POOL - tl_pool_used;
		if (n > len)
			n = len;
		memcpy(out, tl_pool + tl_pool_used, n);
		sodium_memzero(tl_pool + tl_pool_used, n);
		tl_pool_used += n;
		out += n;
		len -= n;
	}
}

bool awg_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

bool awg_is_zero(const void *p, size_t len)
{
	return sodium_is_zero(p, len) == 1;
}

void awg_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

void awg_key_to_base64(char out[AWG_CRYPTO_KEY_B64_LEN + 1], const uint8_t key[AWG_CRYPTO_KEY_LEN])
{
	sodium_bin2base64(out, AWG_CRYPTO_KEY_B64_LEN + 1, key, AWG_CRYPTO_KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}

bool awg_key_from_base64(uint8_t key[AWG_CRYPTO_KEY_LEN], const char *text, size_t len)
{
	uint8_t tmp[AWG_CRYPTO_KEY_LEN];
	const char *end = NULL;
	size_t got = 0;
	bool ok;

	need_init();
	if (len != AWG_CRYPTO_KEY_B64_LEN)
		return false;
	ok = sodium_base642bin(tmp, sizeof(tmp), text, len, NULL, &got, &end,
			       sodium_base64_VARIANT_ORIGINAL) == 0 &&
	     got == AWG_CRYPTO_KEY_LEN && end == text + len;
	if (ok)
		memcpy(key, tmp, sizeof(tmp));
	awg_wipe(tmp, sizeof(tmp));
	return ok;
}

void awg_key_to_hex(char out[AWG_CRYPTO_KEY_HEX_LEN + 1], const uint8_t key[AWG_CRYPTO_KEY_LEN])
{
	sodium_bin2hex(out, AWG_CRYPTO_KEY_HEX_LEN + 1, key, AWG_CRYPTO_KEY_LEN);
}

bool awg_key_from_hex(uint8_t key[AWG_CRYPTO_KEY_LEN], const char *text, size_t len)
{
	uint8_t tmp[AWG_CRYPTO_KEY_LEN];
	const char *end = NULL;
	size_t got = 0;
	bool ok;

	need_init();
	if (len != AWG_CRYPTO_KEY_HEX_LEN)
		return false;
	ok = sodium_hex2bin(tmp, sizeof(tmp), text, len, NULL, &got, &end) == 0 &&
	     got == AWG_CRYPTO_KEY_LEN && end == text + len;
	if (ok)
		memcpy(key, tmp, sizeof(tmp));
	awg_wipe(tmp, sizeof(tmp));
	return ok;
}
