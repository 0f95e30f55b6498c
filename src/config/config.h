/* SPDX-License-Identifier: MIT */
/*
 * The configuration model of one AmneziaWG interface (struct awg_conf) and the wg-quick /
 * awg-quick / awg setconf file format: parser and writer. The UAPI layer (uapi.h) reads and
 * writes the same model.
 *
 * Ownership: an awg_conf owns every buffer it points to; awg_conf_free wipes the secrets
 * (private, preshared and header-protection keys) and frees everything.
 */
#ifndef _AWG_CONFIG_H
#define _AWG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "params.h"
#include "parse.h"
#include "parse_error.h"

/* Most peers one device may hold (amneziawg-go MaxPeers). */
#define AWG_CONF_MAX_PEERS 65536
/* Longest I1..I5 text: it must fit one UAPI line ("i1=" + text) of AWG_UAPI_LINE_MAX bytes. */
#define AWG_CONF_ISPEC_MAX 65532

/*
 * "Which keys were set" bits of struct awg_conf. Writers emit exactly the keys whose bit is set,
 * and a UAPI set overlays exactly those, so "absent" and "set to the default" stay distinct.
 */
enum awg_conf_has {
	AWG_CONF_HAS_PRIVATE_KEY = 1ull << 0,
	AWG_CONF_HAS_LISTEN_PORT = 1ull << 1,
	AWG_CONF_HAS_FWMARK = 1ull << 2,
	AWG_CONF_HAS_JC = 1ull << 3,
	AWG_CONF_HAS_JMIN = 1ull << 4,
	AWG_CONF_HAS_JMAX = 1ull << 5,
	AWG_CONF_HAS_S1 = 1ull << 6,		/* S(n) = AWG_CONF_HAS_S1 << n */
	AWG_CONF_HAS_H1 = 1ull << 10,		/* H(n) = AWG_CONF_HAS_H1 << n */
	AWG_CONF_HAS_I1 = 1ull << 14,		/* I(n) = AWG_CONF_HAS_I1 << n, n < 5 */
	AWG_CONF_HAS_HP_KEY = 1ull << 19,
	AWG_CONF_HAS_CONTENT_PADDING = 1ull << 20,
	AWG_CONF_HAS_REKEY_AFTER_TIME = 1ull << 21,
	AWG_CONF_HAS_REKEY_TIMEOUT = 1ull << 22,
	AWG_CONF_HAS_REJECT_AFTER_TIME = 1ull << 23,
	AWG_CONF_HAS_KEEPALIVE_TIMEOUT = 1ull << 24,
	AWG_CONF_HAS_MAX_HANDSHAKE_ATTEMPTS = 1ull << 25,
	AWG_CONF_HAS_RANDOM_TRAILERS = 1ull << 26,
	AWG_CONF_HAS_DISABLE_COOKIES = 1ull << 27,
	/* awg-quick keys */
	AWG_CONF_HAS_MTU = 1ull << 28,
	AWG_CONF_HAS_TABLE = 1ull << 29,
	AWG_CONF_HAS_SAVE_CONFIG = 1ull << 30,
	/* Request flag, not a key: a UAPI set request built from this model clears all peers. */
	AWG_CONF_REPLACE_PEERS = 1ull << 31,
};

/* awg-quick extensions (ours): the kill switch. Past bit 31, so not enum constants. */
#define AWG_CONF_HAS_KILL_SWITCH (1ull << 32)
#define AWG_CONF_HAS_ALLOW_LAN (1ull << 33)

/* The has-bit of S(n+1), H(n+1) and I(n+1) for a 0-based n. */
#define AWG_CONF_HAS_S(n) ((uint64_t)AWG_CONF_HAS_S1 << (n))
#define AWG_CONF_HAS_H(n) ((uint64_t)AWG_CONF_HAS_H1 << (n))
#define AWG_CONF_HAS_I(n) ((uint64_t)AWG_CONF_HAS_I1 << (n))

enum awg_conf_peer_flags {
	AWG_PEER_HAS_PRESHARED_KEY = 1u << 0,
	AWG_PEER_HAS_ENDPOINT = 1u << 1,
	AWG_PEER_HAS_KEEPALIVE = 1u << 2,
	AWG_PEER_HAS_ADVANCED_SECURITY = 1u << 3,	/* legacy tools-only key, kept for round trips */
	/* Request flags (UAPI set writer): */
	AWG_PEER_REPLACE_ALLOWED_IPS = 1u << 4,
	AWG_PEER_REMOVE = 1u << 5,
	AWG_PEER_UPDATE_ONLY = 1u << 6,
};

enum awg_conf_table {
	AWG_TABLE_AUTO = 0,
	AWG_TABLE_OFF,
	AWG_TABLE_MAIN,
	AWG_TABLE_NUMBER,
};

/* KillSwitch: auto engages in the Windows case (see awg_conf_kill_switch). */
enum awg_kill_switch {
	AWG_KILL_SWITCH_AUTO = 0,
	AWG_KILL_SWITCH_OFF,
	AWG_KILL_SWITCH_ON,		/* rules live as long as the tunnel process */
	AWG_KILL_SWITCH_PERSISTENT,	/* rules survive a crash, until down */
};

/* Which file dialect to accept (see awg_conf_parse). */
enum awg_conf_dialect {
	AWG_CONF_DIALECT_TOOLS,		/* awg setconf/addconf: no awg-quick keys, tools booleans */
	AWG_CONF_DIALECT_QUICK,		/* awg-quick: + Address, DNS, MTU, Table, scripts, SaveConfig */
	AWG_CONF_DIALECT_WINDOWS,	/* amneziawg-windows: awg-quick keys minus FwMark, SaveConfig */
};

struct awg_strlist {
	char **v;		/* owned strings */
	size_t n;
};

struct awg_conf_peer {
	uint32_t flags;				/* enum awg_conf_peer_flags */
	uint8_t public_key[AWG_KEY_LEN];
	uint8_t preshared_key[AWG_KEY_LEN];	/* secret; zero when not set */
	struct awg_endpoint endpoint;
	struct awg_range keepalive;		/* seconds; {0,0} = off */
	bool advanced_security;
	struct awg_cidr *allowed_ips;		/* owned array */
	size_t n_allowed_ips;
	size_t cap_allowed_ips;
	/* Runtime state, only produced and consumed by UAPI get. */
	int64_t last_handshake_sec;
	int64_t last_handshake_nsec;
	uint64_t rx_bytes;
	uint64_t tx_bytes;
};

struct awg_conf {
	uint64_t has;				/* enum awg_conf_has */
	uint8_t private_key[AWG_KEY_LEN];	/* secret */
	uint16_t listen_port;
	uint32_t fwmark;
	struct awg_obfs_params obfs;		/* S, H, J, HP key (secret), padding, booleans */
	char *ispec[AWG_ISPEC_SLOTS];		/* I1..I5 text exactly as given; NULL = unset */
	struct awg_timing_params timing;
	/* awg-quick keys */
	struct awg_cidr *addresses;
	size_t n_addresses;
	struct awg_ipaddr *dns_servers;
	size_t n_dns_servers;
	struct awg_strlist dns_search;
	uint16_t mtu;
	enum awg_conf_table table;
	uint32_t table_number;			/* when table == AWG_TABLE_NUMBER */
	bool save_config;
	enum awg_kill_switch kill_switch;
	bool allow_lan;			/* with the kill switch: directly connected subnets pass */
	struct awg_strlist pre_up, post_up, pre_down, post_down;
	/* Peers in file / request order. Pointers into it are invalidated by add and remove. */
	struct awg_conf_peer *peers;
	size_t n_peers;
	size_t cap_peers;
};

void awg_conf_init(struct awg_conf *c);
/* Wipes the secrets, frees everything and leaves c initialised (empty). */
void awg_conf_free(struct awg_conf *c);
/*
 * Appends a peer with the given public key. Returns 0 and (if out) a borrowed pointer valid until
 * the next add or remove, -ENOSPC beyond AWG_CONF_MAX_PEERS, or -ENOMEM.
 */
int awg_conf_peer_add(struct awg_conf *c, const uint8_t pub[AWG_KEY_LEN],
		      struct awg_conf_peer **out);
/* The first peer with this public key (constant-time compare per peer), or NULL. */
struct awg_conf_peer *awg_conf_peer_find(const struct awg_conf *c, const uint8_t pub[AWG_KEY_LEN]);
/* Removes (wipes and frees) the peer, which must point into c->peers. */
void awg_conf_peer_remove(struct awg_conf *c, struct awg_conf_peer *peer);
/* Appends an allowed IP (kept as given). Returns 0 or -ENOMEM. */
int awg_conf_peer_add_allowed_ip(struct awg_conf_peer *peer, const struct awg_cidr *ip);
/* Sets I-slot n (0..4) to a copy of text[0..len), or clears it when text is NULL. 0/-ENOMEM. */
/*
 * The range-valued keys by index, in one order for every reader and writer: 0 =
 * ContentPaddingAddition, 1..5 = RekeyAfterTime, RekeyTimeout, RejectAfterTime,
 * KeepaliveTimeout, MaxHandshakeAttempts (struct awg_timing_params order). i < AWG_CONF_RANGES.
 * Read-only users of a const model may cast it: nothing is written through the pointer here.
 */
#define AWG_CONF_RANGES 6
struct awg_range *awg_conf_range(struct awg_conf *c, unsigned i);

int awg_conf_set_ispec(struct awg_conf *c, unsigned n, const char *text, size_t len);
/*
 * The kill switch a config asks for: its KillSwitch key, or for auto the Windows rule — exactly
 * one peer, Table not off, and an allowed IP of exactly 0.0.0.0/0 or ::/0 — which gives ON.
 * Never returns AUTO.
 */
enum awg_kill_switch awg_conf_kill_switch(const struct awg_conf *c);

/* Deep equality of two models, including has-bits, flags and runtime counters. */
bool awg_conf_equal(const struct awg_conf *a, const struct awg_conf *b);

/*
 * Parses a configuration file held in text[0..len) into c, which must be freshly initialised.
 * Returns 0, -EINVAL with err filled (1-based line and column, message quoting the offending text
 * but never a secret key), or -ENOMEM. On error c holds a partial model; free it as usual.
 *
 * Accepted syntax (all dialects): optional UTF-8 BOM; LF or CRLF; '#' starts a comment anywhere;
 * section names and keys are case-insensitive; [Interface] at most once, [Peer] repeated, each
 * [Peer] needs a PublicKey. Keys and values are trimmed. I1..I5 and the PreUp/PostUp/PreDown/
 * PostDown scripts keep their inner whitespace (also when the line is indented, unlike the tools);
 * every other value has all its whitespace removed before parsing, as awg setconf does.
 */
int awg_conf_parse(struct awg_conf *c, const char *text, size_t len, enum awg_conf_dialect dialect,
		   struct awg_parse_error *err);

enum awg_conf_write_flags {
	AWG_CONF_WRITE_QUICK = 1u << 0,		/* include the awg-quick keys (Address, DNS, ...) */
	AWG_CONF_WRITE_REDACT = 1u << 1,	/* print "(hidden)" instead of secret keys */
};

/*
 * Writes c as a configuration file. On success *out is an owned NUL-terminated string (free it;
 * it holds secrets unless AWG_CONF_WRITE_REDACT: wipe before freeing) and *len its length.
 * Returns 0, -ENOMEM, or -EINVAL when a text value cannot be represented in the file format
 * (contains '#' or a control character other than tab).
 */
int awg_conf_write(const struct awg_conf *c, char **out, size_t *len, unsigned flags);

#endif /* _AWG_CONFIG_H */
