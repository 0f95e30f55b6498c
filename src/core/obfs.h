/* SPDX-License-Identifier: MIT */
/*
 * AmneziaWG wire shaping (spec §3.4, §4.2–§4.9): parameter validation, magic-header picks,
 * random prefixes, header protection, trailers, transport padding, decoy datagrams and receive
 * classification. A pure transform on caller-owned buffers: no syscalls, randomness only via
 * struct awg_env.
 *
 * Sending a handshake message of kind T (INIT, RESPONSE or COOKIE):
 *   1. s = awg_obfs_prefix_len(o, T); the WireGuard message is built at buf + s (L_T bytes:
 *      148/92/64), buf has capacity cap >= s + L_T (more leaves room for a trailer).
 *   2. awg_le32_put(buf + s, awg_obfs_pick_type(o, T, env)) BEFORE mac1/mac2 are computed.
 *   3. Compute MACs over buf + s as WireGuard does.
 *   4. n = awg_obfs_wrap(o, T, buf, L_T, cap, udp_window, env); send buf[0..n).
 *   Initiations only: before step 4's datagram, send every decoy in order (awg_obfs_decoy_*).
 *
 * Sending a transport message:
 *   1. pad = awg_obfs_transport_padding(o, plain_len, mtu, udp_window, env); the plaintext
 *      plus pad zero bytes is encrypted in place at buf + s + 16, s = awg_obfs_prefix_len(o,
 *      AWG_KIND_TRANSPORT); cap >= s + 16 + plain_len + pad + 16.
 *   2. Header at buf + s: LE32 awg_obfs_pick_type(o, TRANSPORT, env), receiver index, counter.
 *   3. n = awg_obfs_wrap(o, AWG_KIND_TRANSPORT, buf, 16 + plain_len + pad + 16, cap, 0, env).
 *
 * Receiving: awg_obfs_unwrap(o, dgram, n, &view) de-protects in place and points view.msg at the
 * WireGuard message (sender's magic value still in bytes 0..3, as the MACs cover it).
 */
#ifndef _AWG_OBFS_H
#define _AWG_OBFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "ispec.h"
#include "params.h"
#include "parse_error.h"

struct awg_obfs;

/* Go's initial per-peer UDP window (peer.udpWindow) and the fixed window of cookie trailers. */
#define AWG_OBFS_DEFAULT_UDP_WINDOW 500
/* Header protection needs a 12-byte nonce from the prefix of every kind. */
#define AWG_OBFS_HP_MIN_PREFIX 12
/* Largest datagram a validated parameter set may produce without a trailer. */
#define AWG_OBFS_MAX_DATAGRAM 65535

/*
 * Group validation of spec §3.4 on a complete parameter set:
 *  - each H range has LO <= HI, and the four ranges are pairwise disjoint;
 *  - with header protection on, S1..S4 >= 12;
 *  - S_T + L_T <= 65535 for every kind (L = 148, 92, 64, 32);
 *  - Jmax < 65535 and, when Jmax != 0, Jmin <= Jmax (Jmax = 0 means "no junk"; both checked
 *    whatever Jc is, so a later Jc change cannot make a stored set unsafe);
 *  - ContentPaddingAddition has LO <= HI <= 65535.
 * Jc itself is not bounded (Go accepts any uint32). p->hp_on is authoritative: mapping an
 * all-zero key to "off" (Go semantics, spec §4.5) is the config layer's job. Returns 0 or -EINVAL
 * with err->msg naming the keys and values (err->line and err->column are 0).
 */
int awg_obfs_params_validate(const struct awg_obfs_params *p, struct awg_parse_error *err);

/*
 * Creates the obfuscation state of a device from validated-here params and I1..I5 texts
 * (ispec_text[k] NUL-terminated, or NULL for an unset slot; ispec_text itself may be NULL).
 * Returns 0 and an owned *out (free with awg_obfs_free), or -EINVAL with err filled (for an
 * I-spec error err->line is the 1-based slot number), or -ENOMEM.
 */
int awg_obfs_new(const struct awg_obfs_params *p, const char *const ispec_text[AWG_ISPEC_SLOTS],
		 struct awg_obfs **out, struct awg_parse_error *err);
/*
 * As awg_obfs_new with already compiled specs (entries may be NULL). On success takes ownership
 * of every spec and sets the array entries to NULL; on failure the caller still owns them.
 */
int awg_obfs_new_compiled(const struct awg_obfs_params *p,
			  struct awg_ispec *specs[AWG_ISPEC_SLOTS], struct awg_obfs **out,
			  struct awg_parse_error *err);
/* Frees the specs and wipes the header-protection key. NULL is a no-op. */
void awg_obfs_free(struct awg_obfs *o);
/* The validated parameters (borrowed, lives as long as o). */
const struct awg_obfs_params *awg_obfs_params(const struct awg_obfs *o);

/* --- Send side --- */

/* S_T: bytes of random prefix in front of a message of this kind (where to build it). */
size_t awg_obfs_prefix_len(const struct awg_obfs *o, enum awg_msg_kind kind);
/* Uniform pick from H_T, both bounds inclusive; write it LE32 into message bytes 0..3. */
uint32_t awg_obfs_pick_type(const struct awg_obfs *o, enum awg_msg_kind kind,
			    const struct awg_env *env);
/*
 * Frames the message already built (type, MACs, ciphertext) at buf + prefix_len(kind):
 * fills the prefix with random bytes, applies header protection when on (the whole message for
 * handshake/cookie, the 16-byte header for transport), and for handshake/cookie kinds with
 * RandomTrailers on appends R random bytes, R uniform in [0, W - (S_T + L_T)) and never past cap
 * (W = udp_window for INIT/RESPONSE, fixed 500 for COOKIE; udp_window 0 = 500).
 * msg_len must be L_T for handshake/cookie and >= 32 for transport.
 * Returns the datagram length, or 0 when the contract is broken (wrong msg_len, cap too small).
 */
size_t awg_obfs_wrap(const struct awg_obfs *o, enum awg_msg_kind kind, uint8_t *buf,
		     size_t msg_len, size_t cap, size_t udp_window, const struct awg_env *env);
/*
 * Zero bytes to append to a transport plaintext of plain_len bytes (spec §4.3.4 step 2), first
 * rule that applies:
 *  - ContentPaddingAddition set: pick(range), capped to mtu - len' where len' = plain_len if
 *    plain_len <= mtu, else plain_len % mtu;
 *  - RandomTrailers on: uniform in [0, W - (plain_len + 32 + S4)), 0 when W is not larger
 *    (W = udp_window, 0 = 500); not capped by the MTU, W is already a datagram size;
 *  - else WireGuard: round len' up to a multiple of 16, the padded size capped at mtu.
 * mtu 0 means unknown: no cap.
 */
size_t awg_obfs_transport_padding(const struct awg_obfs *o, size_t plain_len, unsigned mtu,
				  size_t udp_window, const struct awg_env *env);

/*
 * Decoys sent before every initiation, one datagram each, indices 0..count-1 in sending order:
 * the I1..I5 payloads (unset slots and specs that evaluate to 0 bytes skipped) followed by Jc
 * junk datagrams (none when Jmax = 0) of length uniform in [max(Jmin, 1), Jmax] and random content.
 * Never empty. The count is fixed for a given o.
 */
unsigned awg_obfs_decoy_count(const struct awg_obfs *o);
/* Buffer size that fits every decoy of o. */
size_t awg_obfs_decoy_max_len(const struct awg_obfs *o);
/* Builds decoy idx into buf. Returns its length (> 0), or 0 if idx >= count or cap is too small. */
size_t awg_obfs_decoy_build(const struct awg_obfs *o, unsigned idx, uint8_t *buf, size_t cap,
			    const struct awg_env *env);

/* --- Receive side --- */

struct awg_obfs_view {
	enum awg_msg_kind kind;
	uint8_t *msg;		/* the WireGuard message, inside the datagram */
	size_t msg_off;		/* = S_T */
	size_t msg_len;		/* L_T for handshake/cookie (trailer dropped); n - S4 for data */
	uint32_t magic;		/* the sender's type value, = LE32(msg) */
};

/*
 * Classifies one datagram (spec §4.4: init -> response -> cookie -> transport, size rule, then
 * the de-protected LE32 at S_T must lie in H_T) and removes header protection in place.
 * Returns 0 and fills out, or -EBADMSG (drop silently). Reads only dgram[0..len).
 */
int awg_obfs_unwrap(const struct awg_obfs *o, uint8_t *dgram, size_t len,
		    struct awg_obfs_view *out);

/* Spec §4.7: a decrypted transport plaintext is a keepalive when empty or starting with 0. */
bool awg_obfs_is_keepalive(const uint8_t *plain, size_t len);

#endif /* _AWG_OBFS_H */
