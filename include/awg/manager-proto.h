/* SPDX-License-Identifier: MIT */
/*
 * The awg-manager wire protocol: what clients (awgctl, awg-gui, tests) and the manager say to
 * each other over /run/awg-suite/manager.sock, and the codec both sides use.
 *
 * Transport
 *   A SOCK_STREAM Unix socket. The manager identifies the peer with SO_PEERCRED when it
 *   connects and authorises every request on its own (see src/manager/authz.c). Both
 *   directions carry a sequence of frames; nothing else is ever on the wire.
 *
 * Frame (all integers little-endian)
 *   u32 length    number of bytes that follow, AWG_MGR_HDR_LEN .. AWG_MGR_FRAME_MAX - 4
 *   u8  kind      1 request (client -> manager), 2 reply (manager -> client),
 *                 3 event (manager -> client, unsolicited)
 *   u8  code      method number (requests, replies) or event number (events), tables below
 *   u16 flags     0; any other value is rejected (reserved for later versions)
 *   u32 seq       request: any value the client picks; reply: the request's seq copied;
 *                 event: 0
 *   ...           the payload: the fields of that kind and code, in the order listed, and
 *                 nothing after them
 *
 * Field types
 *   u8 u16 u32 u64 i64   fixed width, little-endian (i64 two's complement)
 *   str                  u32 byte count n, then n bytes; n is at most the field's limit, and
 *                        the bytes contain no NUL (text is UTF-8 by convention, not checked)
 *   key                  32 raw bytes
 *   bool                 u8 that must be 0 or 1
 *
 * Strict decoding: the length must match the frame, every field must be present and within its
 * limit, enumerations must hold a known value, and no byte may follow the last field. A frame
 * that breaks any rule is malformed; the manager closes that one connection and nothing else.
 *
 * Requests are answered strictly in order, one reply per request (seq copied). A client may send
 * the next request before the reply of the previous one arrives. Replies begin with
 *   u32 status   0 = success, otherwise a positive errno value (EACCES: not allowed for this
 *                caller; ENOENT: no such tunnel; EEXIST: name taken; EINVAL: bad config or
 *                name; EBUSY: tunnel busy; E2BIG: too large; ...)
 *   str error    at most AWG_MGR_ERROR_MAX bytes: a sentence for people; it must be empty
 *                when status is 0 (so the one error text of a successful State reply is its
 *                result field, which struct awg_mgr_msg's error then holds)
 * and the result fields listed below follow only when status is 0.
 *
 * Methods (code: request fields -> result fields). Numbers 0-12 are the Windows manager's
 * (windows-reference.md section 2.3), 13-15 are ours.
 *   0  StoredConfig   str name -> str config
 *        The stored awg-quick text. For operators the server has removed the private key,
 *        preshared keys, header-protection key and every PreUp/PostUp/PreDown/PostDown, and
 *        each peer's public key is a placeholder (see AWG_MGR_PLACEHOLDER).
 *   1  RuntimeConfig  str name -> str config, bool running, str ifname (<= 15),
 *                     u16 listen_port, bool has_public_key, key public_key,
 *                     u32 total_peers, u32 n_peers, n_peers x peer
 *        peer = key public_key, str endpoint (<= AWG_MGR_ENDPOINT_MAX, empty if none),
 *               u64 rx_bytes, u64 tx_bytes, i64 last_handshake_sec (0 = never),
 *               u32 last_handshake_nsec (< 1e9), u16 keepalive (seconds, 0 = off)
 *        config as StoredConfig. When running is 0 the runtime fields are zero. For operators
 *        has_public_key is 0 and the public key zero; peer keys are placeholders.
 *        n_peers <= AWG_MGR_PEERS_MAX; total_peers >= n_peers counts all the device's peers.
 *   2  Start          str name -> (nothing)
 *        Enables the tunnel (it comes back when the manager starts) and starts it; running
 *        tunnels whose addresses or routes intersect are stopped first.
 *   3  Stop           str name -> (nothing)      disables and stops
 *   4  WaitForStop    str name -> (nothing)      the reply comes once the tunnel is stopped
 *   5  Delete         str name -> (nothing)      admin: stops, then removes the config
 *   6  State          str name -> u8 state, str error (the last failure, may be empty)
 *   7  GlobalState    (nothing) -> u8 state
 *   8  Create         str name, str config, bool overwrite -> str name (as stored)
 *        admin. The name is unique case-insensitively; an existing one is replaced only with
 *        overwrite. The config is parsed strictly and stored re-serialised.
 *   9  Tunnels        (nothing) -> u32 n (<= AWG_MGR_TUNNELS_MAX), n x (str name, u8 state,
 *                     bool enabled)
 *   10 Quit           bool stop_tunnels -> bool already_quit       admin; the manager exits
 *   11 UpdateState    (nothing) -> u8 update_state
 *   12 Update         (nothing) -> (nothing)     admin; progress comes as UpdateProgress events
 *   13 Subscribe      bool on -> (nothing)
 *        Events are sent only to connections that subscribed. Their queue is bounded: a
 *        client that stops reading is disconnected when it fills up.
 *   14 LogFd          (nothing) -> u32 log_size
 *        The reply frame carries, as SCM_RIGHTS ancillary data on its first byte, a read-only
 *        file descriptor of the shared ring log (src/common/ringlog.h) of log_size bytes.
 *   15 Role           (nothing) -> u8 role, u32 uid       who the manager thinks the caller is
 *
 * Events (code: fields)
 *   0  TunnelChange    str name, u8 state, u8 global_state, str error
 *   1  TunnelsChange   (nothing)    the set of stored configs changed
 *   2  ManagerStopping (nothing)
 *   3  UpdateFound     u8 update_state
 *   4  UpdateProgress  str activity (<= AWG_MGR_ACTIVITY_MAX), u64 downloaded, u64 total,
 *                      str error, bool complete        (sent to admins only)
 *
 * Names are tunnel names (windows-reference.md section 3.2): 1-32 bytes of [a-zA-Z0-9_=+.-];
 * the codec checks only the upper bound (32), the manager checks the rules (an empty name too).
 */
#ifndef _AWG_MANAGER_PROTO_H
#define _AWG_MANAGER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define AWG_MGR_SOCKET_PATH	"/run/awg-suite/manager.sock"

/* Limits. A frame never exceeds AWG_MGR_FRAME_MAX bytes including its length word. */
#define AWG_MGR_FRAME_MAX	(1u << 20)
#define AWG_MGR_HDR_LEN		8		/* kind, code, flags, seq */
#define AWG_MGR_NAME_MAX	32
#define AWG_MGR_CONFIG_MAX	(512u << 10)
#define AWG_MGR_ERROR_MAX	512
#define AWG_MGR_ENDPOINT_MAX	64
#define AWG_MGR_IFNAME_MAX	15
#define AWG_MGR_ACTIVITY_MAX	128
#define AWG_MGR_PEERS_MAX	2048
#define AWG_MGR_TUNNELS_MAX	1024
#define AWG_MGR_KEY_LEN		32

enum awg_mgr_kind {
	AWG_MGR_REQUEST = 1,
	AWG_MGR_REPLY = 2,
	AWG_MGR_EVENT = 3,
};

enum awg_mgr_method {
	AWG_MGR_STORED_CONFIG = 0,
	AWG_MGR_RUNTIME_CONFIG = 1,
	AWG_MGR_START = 2,
	AWG_MGR_STOP = 3,
	AWG_MGR_WAIT_FOR_STOP = 4,
	AWG_MGR_DELETE = 5,
	AWG_MGR_STATE = 6,
	AWG_MGR_GLOBAL_STATE = 7,
	AWG_MGR_CREATE = 8,
	AWG_MGR_TUNNELS = 9,
	AWG_MGR_QUIT = 10,
	AWG_MGR_UPDATE_STATE = 11,
	AWG_MGR_UPDATE = 12,
	AWG_MGR_SUBSCRIBE = 13,
	AWG_MGR_LOG_FD = 14,
	AWG_MGR_ROLE = 15,
	AWG_MGR_METHODS
};

enum awg_mgr_event {
	AWG_MGR_EV_TUNNEL_CHANGE = 0,
	AWG_MGR_EV_TUNNELS_CHANGE = 1,
	AWG_MGR_EV_MANAGER_STOPPING = 2,
	AWG_MGR_EV_UPDATE_FOUND = 3,
	AWG_MGR_EV_UPDATE_PROGRESS = 4,
	AWG_MGR_EVENTS
};

/* TunnelState, as on Windows. */
enum awg_mgr_state {
	AWG_MGR_UNKNOWN = 0,
	AWG_MGR_STARTED = 1,
	AWG_MGR_STOPPED = 2,
	AWG_MGR_STARTING = 3,
	AWG_MGR_STOPPING = 4,
	AWG_MGR_STATES
};

enum awg_mgr_update_state {
	AWG_MGR_UPDATE_UNKNOWN = 0,
	AWG_MGR_UPDATE_FOUND = 1,
	AWG_MGR_UPDATE_DISABLED = 2,	/* unofficial build: the updater is off */
	AWG_MGR_UPDATE_STATES
};

enum awg_mgr_role {
	AWG_MGR_ROLE_NONE = 0,
	AWG_MGR_ROLE_ADMIN = 1,
	AWG_MGR_ROLE_OPERATOR = 2,
	AWG_MGR_ROLES
};

/*
 * Redacted peer public keys: 32 bytes, zero except the first 8, which hold the peer's index in
 * the stored config (little-endian u64), so an operator can tell peers apart and match the
 * runtime peers to the config's.
 */
#define AWG_MGR_PLACEHOLDER_INDEX_LEN 8

struct awg_mgr_peer {
	uint8_t public_key[AWG_MGR_KEY_LEN];
	char endpoint[AWG_MGR_ENDPOINT_MAX + 1];
	uint64_t rx_bytes;
	uint64_t tx_bytes;
	int64_t last_handshake_sec;
	uint32_t last_handshake_nsec;
	uint16_t keepalive;
};

struct awg_mgr_tunnel {
	char name[AWG_MGR_NAME_MAX + 1];
	uint8_t state;			/* enum awg_mgr_state */
	uint8_t enabled;
};

/*
 * One decoded (or to-be-encoded) frame. Which fields are meaningful depends on kind and code
 * (the tables above); the rest stay zero. Strings are NUL-terminated copies.
 */
struct awg_mgr_msg {
	uint8_t kind;			/* enum awg_mgr_kind */
	uint8_t code;			/* enum awg_mgr_method or awg_mgr_event */
	uint32_t seq;

	/* Replies. error: the reply's error; State's, TunnelChange's and UpdateProgress's error. */
	uint32_t status;
	char error[AWG_MGR_ERROR_MAX + 1];

	char name[AWG_MGR_NAME_MAX + 1];	/* every method that names a tunnel; Create reply */
	char *config;			/* owned; may hold secrets: awg_mgr_msg_free wipes it */
	size_t config_len;		/* without the NUL */
	/*
	 * The one bool of a message: Create overwrite, Quit stop_tunnels / already_quit,
	 * Subscribe on, RuntimeConfig running, UpdateProgress complete.
	 */
	uint8_t flag;
	/* State/GlobalState/TunnelChange state, UpdateState/UpdateFound update state, Role role */
	uint8_t state;
	uint8_t global_state;		/* TunnelChange */
	uint32_t value;			/* LogFd log_size, Role uid */

	/* RuntimeConfig. */
	char ifname[AWG_MGR_IFNAME_MAX + 1];
	uint16_t listen_port;
	uint8_t has_public_key;
	uint8_t public_key[AWG_MGR_KEY_LEN];
	uint32_t total_peers;
	uint32_t n_peers;
	struct awg_mgr_peer *peers;	/* owned */

	/* Tunnels. */
	uint32_t n_tunnels;
	struct awg_mgr_tunnel *tunnels;	/* owned */

	/* UpdateProgress (error above carries its error string). */
	char activity[AWG_MGR_ACTIVITY_MAX + 1];
	uint64_t downloaded;
	uint64_t total;
};

/*
 * Sets m->config to an owned copy of config[0..len) (NUL added; config_len = len), wiping and
 * freeing the previous one. 0, -E2BIG when len > AWG_MGR_CONFIG_MAX, or -ENOMEM.
 */
int awg_mgr_msg_set_config(struct awg_mgr_msg *m, const char *config, size_t len);

/*
 * Encodes m as one frame, length word included, into an owned buffer (*out, *len; wipe it when
 * it carried a config with secrets). Returns 0, -EINVAL when m breaks a rule the decoder
 * enforces (unknown kind or code, string too long or holding NUL, ...), -E2BIG when the frame
 * would exceed AWG_MGR_FRAME_MAX, or -ENOMEM.
 */
int awg_mgr_encode(const struct awg_mgr_msg *m, uint8_t **out, size_t *len);

/*
 * The total frame length announced by the first 4 bytes of a frame (length word included), or
 * 0 when it is out of range (the connection is then beyond repair).
 */
size_t awg_mgr_frame_len(const uint8_t head[4]);

/*
 * Decodes exactly one frame held in buf[0..len), length word included, into m (which is
 * overwritten; free it with awg_mgr_msg_free even on error). Returns 0, -EINVAL (malformed), or
 * -ENOMEM.
 */
int awg_mgr_decode(struct awg_mgr_msg *m, const uint8_t *buf, size_t len);

/* Wipes and frees what m owns and zeroes m. */
void awg_mgr_msg_free(struct awg_mgr_msg *m);

/* Names for messages and logs: "StoredConfig", "TunnelChange", "Started", ...; "?" if unknown. */
const char *awg_mgr_method_name(unsigned code);
const char *awg_mgr_event_name(unsigned code);
const char *awg_mgr_state_name(unsigned state);
const char *awg_mgr_role_name(unsigned role);

#endif /* _AWG_MANAGER_PROTO_H */
