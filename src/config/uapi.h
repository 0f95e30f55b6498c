/* SPDX-License-Identifier: MIT */
/*
 * The AmneziaWG UAPI text protocol (spec §6) on top of struct awg_conf: request framing for
 * servers, the set applier and get writer of the daemon, and the get parser and set writer of
 * the tools. All functions work on buffers; none does I/O.
 */
#ifndef _AWG_UAPI_H
#define _AWG_UAPI_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "parse_error.h"

/* Longest request line, '\n' excluded (amneziawg-go reads through a 64 KiB line buffer). */
#define AWG_UAPI_LINE_MAX 65535

enum awg_uapi_op {
	AWG_UAPI_OP_GET = 1,
	AWG_UAPI_OP_SET = 2,
};

/* One complete request found in a stream buffer by awg_uapi_frame. */
struct awg_uapi_request {
	enum awg_uapi_op op;
	size_t payload_off;	/* set: first byte after "set=1\n" */
	size_t payload_len;	/* set: payload lines including their '\n', without the blank line */
	size_t total_len;	/* bytes the request occupies; consume them */
};

/*
 * Looks for one complete request at the start of buf[0..len).
 * Returns 1 with req filled; 0 when more bytes are needed (at EOF, a set with no blank line yet
 * is complete: pass buf + 6 to awg_uapi_set); -EINVAL when "get=1\n" is not followed by "\n"
 * (answer errno=-22, then close); -EPROTO for an unknown operation line (close without an
 * answer, as amneziawg-go does); -EIO when a line exceeds AWG_UAPI_LINE_MAX (answer errno=-5).
 */
int awg_uapi_frame(const char *buf, size_t len, struct awg_uapi_request *req);

/* Engine callbacks of awg_uapi_set. Every member may be NULL. */
struct awg_uapi_hooks {
	/* Called before listen_port is stored; a negative errno fails the set with it. */
	int (*listen_port)(void *ctx, uint16_t port);
	/* Called before fwmark is stored; a negative errno fails the set with it. */
	int (*fwmark)(void *ctx, uint32_t mark);
	/* Called just before a peer leaves the model (remove, replace_peers, self-peer, undo). */
	void (*peer_removed)(void *ctx, const uint8_t pub[AWG_KEY_LEN]);
};

/*
 * Applies the payload of a set request (the lines after "set=1", up to and excluding the blank
 * line; a request without the blank line ends at len, like EOF in amneziawg-go) to dev with
 * amneziawg-go 3.1 semantics (spec §6.4-§6.6), with one deliberate difference: S1-S4, H1-H4,
 * header_protection_key and jc/jmin/jmax are committed at the end as one group, validated with
 * awg_obfs_params_validate against the resulting state, and applied all-or-nothing (spec §9).
 * Every other key takes effect at its line, so an error leaves earlier lines applied.
 *
 * Returns 0 or a negative errno exactly as amneziawg-go answers (spec §6.2): -EINVAL for unknown
 * keys and bad values, -EPROTO for a line without '=', -EIO for a line longer than
 * AWG_UAPI_LINE_MAX (the pending group is committed first; if it fails validation, that
 * -EINVAL is returned instead, as amneziawg-go does), a hook's errno, -ENOMEM.
 * err (may be NULL) gets the 1-based payload line, the column and a message that never quotes
 * a key value (nor a line without '=' beyond a leading key name).
 */
int awg_uapi_set(struct awg_conf *dev, const char *req, size_t len,
		 const struct awg_uapi_hooks *hooks, void *ctx, struct awg_parse_error *err);

/*
 * Writes the get response for dev in the key order and emission rules of spec §6.3, ending with
 * "errno=0\n\n". *out is owned (it holds secrets: wipe before free). Returns 0 or -ENOMEM.
 */
int awg_uapi_get(const struct awg_conf *dev, char **out, size_t *len);

/*
 * Client side: parses a get response (key=value lines, "errno=N", blank line) into c, which must
 * be freshly initialised. Keys the tools do not know are ignored. Every key present sets its
 * has-bit; H ranges not present are 0-0, as the daemon omits only those.
 * Returns 0, the daemon's negative errno from a non-zero errno= line, -EPROTO for a malformed
 * response (err filled), or -ENOMEM.
 */
int awg_uapi_parse_get(struct awg_conf *c, const char *resp, size_t len,
		       struct awg_parse_error *err);

enum awg_uapi_set_flags {
	/*
	 * awg setconf semantics: always send private_key (zeros when absent) and fwmark, send
	 * replace_peers=true, and replace_allowed_ips=true for every peer. Without it (awg addconf
	 * / awg set), only has-bits and the request flags of the model are sent.
	 */
	AWG_UAPI_SET_REPLACE = 1u << 0,
};

/*
 * Writes a complete set request ("set=1\n" ... "\n") for c in the awg setconf order of spec §6.6.
 * Booleans are sent as 0/1. Returns 0, -ENOMEM, or -EINVAL when c cannot be expressed over
 * UAPI (a host-name endpoint, AdvancedSecurity, an I-spec with a line break).
 */
int awg_uapi_write_set(const struct awg_conf *c, unsigned flags, char **out, size_t *len);

#endif /* _AWG_UAPI_H */
