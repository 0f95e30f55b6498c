#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The awg-manager wire protocol (include/awg/manager-proto.h) in Python, for the integration
# tests: a strict twin of src/client/proto.c driven by the same kind of field tables.
#
#   encode(kind, code, seq, fields) -> bytes     one frame, length word included
#   decode(frame) -> dict                         strict; raises ValueError on a malformed frame
#   request(code, seq=0, **fields) -> bytes
#   recv_frame(sock) -> bytes                     one raw frame (b"" on EOF before it)
#   recv_frame_with_fd(sock) -> (bytes, fd|None)  same, plus the SCM_RIGHTS fd of a LogFd reply
#
# Dicts carry kind, code, seq, then (replies) status and error, then the fields under their
# header names; bools are True/False, keys 32-byte bytes, strings str (UTF-8, surrogateescape
# so that any byte string survives), peers/tunnels lists of dicts. On a successful reply the
# header's error is empty, so "error" is State's result error when there is one.
#
#   mgrproto.py --selftest              round trips and rejections
#   mgrproto.py --write-corpus DIR      seed frames ok-* (valid) and bad-* (malformed)
import os
import socket
import struct
import sys

REQUEST, REPLY, EVENT = 1, 2, 3

METHOD_NAMES = ["StoredConfig", "RuntimeConfig", "Start", "Stop", "WaitForStop", "Delete",
                "State", "GlobalState", "Create", "Tunnels", "Quit", "UpdateState", "Update",
                "Subscribe", "LogFd", "Role"]
(STORED_CONFIG, RUNTIME_CONFIG, START, STOP, WAIT_FOR_STOP, DELETE, STATE, GLOBAL_STATE,
 CREATE, TUNNELS, QUIT, UPDATE_STATE, UPDATE, SUBSCRIBE, LOG_FD, ROLE) = range(16)
METHODS = len(METHOD_NAMES)

EVENT_NAMES = ["TunnelChange", "TunnelsChange", "ManagerStopping", "UpdateFound",
               "UpdateProgress"]
EV_TUNNEL_CHANGE, EV_TUNNELS_CHANGE, EV_MANAGER_STOPPING, EV_UPDATE_FOUND, \
    EV_UPDATE_PROGRESS = range(5)
EVENTS = len(EVENT_NAMES)

STATE_NAMES = ["Unknown", "Started", "Stopped", "Starting", "Stopping"]
UNKNOWN, STARTED, STOPPED, STARTING, STOPPING = range(5)
STATES = len(STATE_NAMES)

UPDATE_UNKNOWN, UPDATE_FOUND, UPDATE_DISABLED = range(3)
UPDATE_STATES = 3

ROLE_NAMES = ["None", "Admin", "Operator"]
ROLE_NONE, ROLE_ADMIN, ROLE_OPERATOR = range(3)
ROLES = len(ROLE_NAMES)

SOCKET_PATH = "/run/awg-suite/manager.sock"
FRAME_MAX = 1 << 20
HDR_LEN = 8
NAME_MAX = 32
CONFIG_MAX = 512 << 10
ERROR_MAX = 512
ENDPOINT_MAX = 64
IFNAME_MAX = 15
ACTIVITY_MAX = 128
PEERS_MAX = 2048
TUNNELS_MAX = 1024
KEY_LEN = 32

# Field tables: (name, type, limit[, element table, bounding field]).
# Types: u8 u16 u32 u64 i64 key str bool enum (limit = number of values) array.
INTS = {"u8": (1, "<B"), "u16": (2, "<H"), "u32": (4, "<I"), "u64": (8, "<Q"),
        "i64": (8, "<q"), "enum": (1, "<B"), "bool": (1, "<B")}

PEER = [("public_key", "key", 0), ("endpoint", "str", ENDPOINT_MAX), ("rx_bytes", "u64", 0),
        ("tx_bytes", "u64", 0), ("last_handshake_sec", "i64", 0),
        ("last_handshake_nsec", "u32", 10**9), ("keepalive", "u16", 0)]
TUNNEL = [("name", "str", NAME_MAX), ("state", "enum", STATES), ("enabled", "bool", 2)]

NAME = ("name", "str", NAME_MAX)
CONFIG = ("config", "str", CONFIG_MAX)
ERROR = ("error", "str", ERROR_MAX)

REQUESTS = {
    STORED_CONFIG: [NAME], RUNTIME_CONFIG: [NAME], START: [NAME], STOP: [NAME],
    WAIT_FOR_STOP: [NAME], DELETE: [NAME], STATE: [NAME], GLOBAL_STATE: [],
    CREATE: [NAME, CONFIG, ("overwrite", "bool", 2)], TUNNELS: [],
    QUIT: [("stop_tunnels", "bool", 2)], UPDATE_STATE: [], UPDATE: [],
    SUBSCRIBE: [("on", "bool", 2)], LOG_FD: [], ROLE: [],
}
RESULTS = {
    STORED_CONFIG: [CONFIG],
    RUNTIME_CONFIG: [CONFIG, ("running", "bool", 2), ("ifname", "str", IFNAME_MAX),
                     ("listen_port", "u16", 0), ("has_public_key", "bool", 2),
                     ("public_key", "key", 0), ("total_peers", "u32", 0),
                     ("peers", "array", PEERS_MAX, PEER, "total_peers")],
    START: [], STOP: [], WAIT_FOR_STOP: [], DELETE: [],
    STATE: [("state", "enum", STATES), ERROR],
    GLOBAL_STATE: [("state", "enum", STATES)],
    CREATE: [NAME],
    TUNNELS: [("tunnels", "array", TUNNELS_MAX, TUNNEL, None)],
    QUIT: [("already_quit", "bool", 2)],
    UPDATE_STATE: [("update_state", "enum", UPDATE_STATES)],
    UPDATE: [], SUBSCRIBE: [],
    LOG_FD: [("log_size", "u32", 0)],
    ROLE: [("role", "enum", ROLES), ("uid", "u32", 0)],
}
EVENT_FIELDS = {
    EV_TUNNEL_CHANGE: [NAME, ("state", "enum", STATES), ("global_state", "enum", STATES), ERROR],
    EV_TUNNELS_CHANGE: [], EV_MANAGER_STOPPING: [],
    EV_UPDATE_FOUND: [("update_state", "enum", UPDATE_STATES)],
    EV_UPDATE_PROGRESS: [("activity", "str", ACTIVITY_MAX), ("downloaded", "u64", 0),
                         ("total", "u64", 0), ERROR, ("complete", "bool", 2)],
}


def _table(kind, code):
    tables = {REQUEST: REQUESTS, REPLY: RESULTS, EVENT: EVENT_FIELDS}
    if kind not in tables or code not in tables[kind]:
        raise ValueError(f"unknown kind {kind} / code {code}")
    return tables[kind][code]


def _default(ftype):
    return {"key": bytes(KEY_LEN), "str": "", "bool": False, "array": []}.get(ftype, 0)


def _to_bytes(s):
    return s if isinstance(s, (bytes, bytearray)) else s.encode("utf-8", "surrogateescape")


def _put_str(out, value, limit, what):
    b = _to_bytes(value)
    if len(b) > limit:
        raise ValueError(f"{what}: {len(b)} bytes, limit {limit}")
    if b"\0" in b:
        raise ValueError(f"{what}: NUL byte")
    out += struct.pack("<I", len(b)) + b


def _put_fields(out, table, fields):
    for spec in table:
        name, ftype, limit = spec[:3]
        v = fields.get(name, _default(ftype))
        if ftype == "str":
            _put_str(out, v, limit, name)
        elif ftype == "key":
            if len(v) != KEY_LEN:
                raise ValueError(f"{name}: key of {len(v)} bytes")
            out += bytes(v)
        elif ftype == "array":
            elem, bound = spec[3], spec[4]
            if len(v) > limit:
                raise ValueError(f"{name}: {len(v)} entries, limit {limit}")
            if bound and len(v) > fields.get(bound, 0):
                raise ValueError(f"{name}: {len(v)} entries > {bound}")
            out += struct.pack("<I", len(v))
            for e in v:
                _put_fields(out, elem, e)
        else:
            v = int(v)
            if limit and not 0 <= v < limit:
                raise ValueError(f"{name}: {v} out of range")
            out += _pack(INTS[ftype][1], v)


def _pack(fmt, *values):
    try:
        return struct.pack(fmt, *values)
    except struct.error as e:
        raise ValueError(f"{values}: {e}") from None


def encode(kind, code, seq, fields=None):
    """One frame, length word included; ValueError for what decode() would refuse."""
    fields = fields or {}
    table = _table(kind, code)
    if kind == EVENT and seq:
        raise ValueError("events carry seq 0")
    out = bytearray(_pack("<BBHI", kind, code, 0, seq))
    if kind == REPLY:
        status, error = fields.get("status", 0), fields.get("error", "")
        out += _pack("<I", status)
        if status:
            _put_str(out, error, ERROR_MAX, "error")
            table = []
        else:
            if _to_bytes(error) and not any(s[0] == "error" for s in table):
                raise ValueError("a successful reply carries no error")
            out += struct.pack("<I", 0)
    _put_fields(out, table, fields)
    if len(out) + 4 > FRAME_MAX:
        raise ValueError("frame exceeds FRAME_MAX")
    return struct.pack("<I", len(out)) + bytes(out)


def request(code, seq=0, **fields):
    return encode(REQUEST, code, seq, fields)


class _Reader:
    def __init__(self, buf, pos):
        self.buf, self.pos = buf, pos

    def take(self, n):
        if n > len(self.buf) - self.pos:
            raise ValueError(f"truncated at byte {self.pos}")
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def int(self, fmt, n):
        return struct.unpack(fmt, self.take(n))[0]

    def str(self, limit, what):
        n = self.int("<I", 4)
        if n > limit:
            raise ValueError(f"{what}: {n} bytes, limit {limit}")
        b = self.take(n)
        if b"\0" in b:
            raise ValueError(f"{what}: NUL byte")
        return b.decode("utf-8", "surrogateescape")


def _min_size(table):
    sizes = {"key": KEY_LEN, "str": 4, "array": 4}
    return sum(sizes.get(s[1]) or INTS[s[1]][0] for s in table)


def _get_fields(r, table, d):
    for spec in table:
        name, ftype, limit = spec[:3]
        if ftype == "str":
            d[name] = r.str(limit, name)
        elif ftype == "key":
            d[name] = bytes(r.take(KEY_LEN))
        elif ftype == "array":
            elem, bound = spec[3], spec[4]
            n = r.int("<I", 4)
            if n > limit or (bound and n > d[bound]):
                raise ValueError(f"{name}: bad count {n}")
            if n * _min_size(elem) > len(r.buf) - r.pos:
                raise ValueError(f"{name}: {n} entries cannot fit")
            d[name] = []
            for _ in range(n):
                e = {}
                _get_fields(r, elem, e)
                d[name].append(e)
        else:
            v = r.int(INTS[ftype][1], INTS[ftype][0])
            if limit and not v < limit:
                raise ValueError(f"{name}: {v} out of range")
            d[name] = bool(v) if ftype == "bool" else v


def frame_len(head):
    """Total frame length announced by the first 4 bytes, or 0 when out of range."""
    n = struct.unpack("<I", head[:4])[0]
    return n + 4 if HDR_LEN <= n <= FRAME_MAX - 4 else 0


def decode(frame):
    """Decodes exactly one frame (length word included) strictly; ValueError if malformed."""
    frame = bytes(frame)
    if len(frame) < 4 or frame_len(frame) != len(frame):
        raise ValueError("length word does not match the frame")
    kind, code, flags, seq = struct.unpack_from("<BBHI", frame, 4)
    table = _table(kind, code)
    if flags:
        raise ValueError(f"flags {flags:#x}")
    if kind == EVENT and seq:
        raise ValueError("event with seq != 0")
    d = {"kind": kind, "code": code, "seq": seq}
    r = _Reader(frame, 4 + HDR_LEN)
    if kind == REPLY:
        d["status"] = r.int("<I", 4)
        d["error"] = r.str(ERROR_MAX, "error")
        if d["status"] == 0 and d["error"]:
            raise ValueError("a successful reply carries no error")
        if d["status"]:
            table = []
    _get_fields(r, table, d)
    if r.pos != len(frame):
        raise ValueError(f"{len(frame) - r.pos} trailing bytes")
    return d


def _recv_exactly(sock, n, fds):
    """n bytes from sock; collects SCM_RIGHTS fds into fds when it is a list."""
    buf = b""
    while len(buf) < n:
        if fds is None:
            chunk = sock.recv(n - len(buf))
        else:
            chunk, got, msg_flags, _ = socket.recv_fds(sock, n - len(buf), 4)
            fds.extend(got)
            if msg_flags & socket.MSG_CTRUNC:
                raise ValueError("ancillary data truncated")
        if not chunk:
            if buf:
                raise EOFError("connection closed inside a frame")
            return b""
        buf += chunk
    return buf


def _recv(sock, fds):
    head = _recv_exactly(sock, 4, fds)
    if not head:
        return b""
    n = frame_len(head)
    if not n:
        raise ValueError(f"frame length word out of range: {head.hex()}")
    rest = _recv_exactly(sock, n - 4, fds)
    if not rest:
        raise EOFError("connection closed inside a frame")
    return head + rest


def recv_frame(sock):
    """Reads exactly one frame; returns its raw bytes with the length word, b"" on EOF."""
    return _recv(sock, None)


def recv_frame_with_fd(sock):
    """Like recv_frame, plus the file descriptor sent with the frame (or None)."""
    fds = []
    try:
        frame = _recv(sock, fds)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    for fd in fds[1:]:
        os.close(fd)
    if len(fds) > 1:
        os.close(fds[0])
        raise ValueError(f"{len(fds)} file descriptors with one frame")
    return frame, (fds[0] if fds else None)


# --- Seed frames and self test ---------------------------------------------------------

KEY_A = bytes(range(1, 33))
PLACEHOLDER = struct.pack("<Q", 1) + bytes(24)
CONF = "[Interface]\nPrivateKey = QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk=\n"

REQUEST_SAMPLES = {
    STORED_CONFIG: {"name": "wg0"}, RUNTIME_CONFIG: {"name": "office"},
    START: {"name": "a.b-c_d=e+f"}, STOP: {"name": "wg0"}, WAIT_FOR_STOP: {"name": "wg0"},
    DELETE: {"name": "x" * NAME_MAX}, STATE: {"name": "wg0"}, GLOBAL_STATE: {},
    CREATE: {"name": "home", "config": CONF, "overwrite": True}, TUNNELS: {},
    QUIT: {"stop_tunnels": True}, UPDATE_STATE: {}, UPDATE: {}, SUBSCRIBE: {"on": True},
    LOG_FD: {}, ROLE: {},
}
RESULT_SAMPLES = {
    STORED_CONFIG: {"config": CONF},
    RUNTIME_CONFIG: {
        "config": CONF, "running": True, "ifname": "awg-office", "listen_port": 51820,
        "has_public_key": True, "public_key": KEY_A, "total_peers": 3,
        "peers": [
            {"public_key": KEY_A[::-1], "endpoint": "[2001:db8::1]:51820", "rx_bytes": 1 << 40,
             "tx_bytes": 12345, "last_handshake_sec": 1700000000,
             "last_handshake_nsec": 999999999, "keepalive": 25},
            {"public_key": PLACEHOLDER, "endpoint": "", "rx_bytes": 0, "tx_bytes": 0,
             "last_handshake_sec": -1, "last_handshake_nsec": 0, "keepalive": 0},
        ]},
    START: {}, STOP: {}, WAIT_FOR_STOP: {}, DELETE: {},
    STATE: {"state": STOPPED, "error": "handshake did not complete"},
    GLOBAL_STATE: {"state": STARTED}, CREATE: {"name": "home"},
    TUNNELS: {"tunnels": [{"name": "wg0", "state": STARTED, "enabled": True},
                          {"name": "office", "state": STOPPED, "enabled": False}]},
    QUIT: {"already_quit": False}, UPDATE_STATE: {"update_state": UPDATE_DISABLED},
    UPDATE: {}, SUBSCRIBE: {}, LOG_FD: {"log_size": 1 << 20},
    ROLE: {"role": ROLE_OPERATOR, "uid": 1000},
}
EVENT_SAMPLES = {
    EV_TUNNEL_CHANGE: {"name": "wg0", "state": STARTING, "global_state": STARTING,
                       "error": ""},
    EV_TUNNELS_CHANGE: {}, EV_MANAGER_STOPPING: {},
    EV_UPDATE_FOUND: {"update_state": UPDATE_FOUND},
    EV_UPDATE_PROGRESS: {"activity": "Downloading", "downloaded": 4096, "total": 1 << 33,
                         "error": "", "complete": False},
}


def ok_samples():
    """(file name, kind, code, seq, fields) of one valid frame of every message."""
    out = []
    for code, f in REQUEST_SAMPLES.items():
        out.append((f"ok-req-{METHOD_NAMES[code]}", REQUEST, code, 100 + code, f))
    for code, f in RESULT_SAMPLES.items():
        out.append((f"ok-rep-{METHOD_NAMES[code]}", REPLY, code, 100 + code, f))
        out.append((f"ok-rep-{METHOD_NAMES[code]}-error", REPLY, code, 0xffffffff - code,
                    {"status": 13, "error": f"{METHOD_NAMES[code]}: permission denied"}))
    for code, f in EVENT_SAMPLES.items():
        out.append((f"ok-ev-{EVENT_NAMES[code]}", EVENT, code, 0, f))
    return out


def _relen(body):
    """A frame around body (everything after the length word)."""
    return struct.pack("<I", len(body)) + body


def bad_samples():
    """(file name, bytes) of malformed frames, each breaking one rule."""
    start = request(START, 7, name="wg0")
    runtime = encode(REPLY, RUNTIME_CONFIG, 1, RESULT_SAMPLES[RUNTIME_CONFIG])
    peer0 = struct.pack("<II", 3, 2)
    at = runtime.index(peer0)
    return [
        ("bad-trailing-byte", _relen(start[4:] + b"\0")),
        ("bad-truncated", _relen(runtime[4:-1])),
        ("bad-length-big", struct.pack("<I", len(start) - 3) + start[4:]),
        ("bad-length-small", struct.pack("<I", len(start) - 5) + start[4:]),
        ("bad-length-over-max", struct.pack("<I", FRAME_MAX - 3) + start[4:]),
        ("bad-short", start[:3]),
        ("bad-flags", start[:6] + b"\1\0" + start[8:]),
        ("bad-kind", start[:4] + b"\4" + start[5:]),
        ("bad-method", start[:5] + bytes([METHODS]) + start[6:]),
        ("bad-event", encode(EVENT, EV_TUNNELS_CHANGE, 0)[:5] + bytes([EVENTS]) +
         encode(EVENT, EV_TUNNELS_CHANGE, 0)[6:]),
        ("bad-event-seq", _relen(struct.pack("<BBHI", EVENT, EV_MANAGER_STOPPING, 0, 1))),
        ("bad-bool", request(SUBSCRIBE, 1, on=True)[:-1] + b"\2"),
        ("bad-str-nul", request(START, 1, name="wg0")[:-2] + b"\0" +
         request(START, 1, name="wg0")[-1:]),
        ("bad-name-long", _relen(struct.pack("<BBHII", REQUEST, START, 0, 1, NAME_MAX + 1) +
                                 b"n" * (NAME_MAX + 1))),
        ("bad-state", encode(REPLY, GLOBAL_STATE, 1, {"state": 0})[:-1] + bytes([STATES])),
        ("bad-update-state", encode(EVENT, EV_UPDATE_FOUND, 0, {"update_state": 0})[:-1] +
         bytes([UPDATE_STATES])),
        ("bad-role", encode(REPLY, ROLE, 1, {"role": 0, "uid": 0})[:-5] + bytes([ROLES]) +
         bytes(4)),
        ("bad-peers-over-total", runtime[:at] + struct.pack("<II", 1, 2) + runtime[at + 8:]),
        ("bad-peers-count", _relen(runtime[4:at] + struct.pack("<II", 1 << 20, 1 << 20))),
        ("bad-nsec", runtime.replace(struct.pack("<I", 999999999),
                                     struct.pack("<I", 10**9))),
        ("bad-tunnels-count", _relen(struct.pack("<BBHIII", REPLY, TUNNELS, 0, 1, 0, 0) +
                                     struct.pack("<I", TUNNELS_MAX + 1) +
                                     (struct.pack("<I", 0) + b"\0\0") * (TUNNELS_MAX + 1))),
        ("bad-success-error", _relen(struct.pack("<BBHII", REPLY, START, 0, 1, 0) +
                                     struct.pack("<I", 4) + b"oops")),
        ("bad-error-with-results", _relen(struct.pack("<BBHII", REPLY, LOG_FD, 0, 1, 5) +
                                          struct.pack("<I", 0) + struct.pack("<I", 4096))),
    ]


def _normal(kind, code, seq, fields):
    """What decode() returns for encode(kind, code, seq, fields)."""
    d = {"kind": kind, "code": code, "seq": seq}
    table = _table(kind, code)
    if kind == REPLY:
        d["status"], d["error"] = fields.get("status", 0), fields.get("error", "")
        if d["status"]:
            return d
    for spec in table:
        d[spec[0]] = fields.get(spec[0], _default(spec[1]))
    return d


def selftest():
    failures = 0
    for name, kind, code, seq, fields in ok_samples():
        frame = encode(kind, code, seq, fields)
        d = decode(frame)
        if d != _normal(kind, code, seq, fields) or encode(kind, code, seq, d) != frame:
            print(f"FAIL round trip {name}: {d}")
            failures += 1
    for name, frame in bad_samples():
        try:
            decode(frame)
        except ValueError:
            continue
        print(f"FAIL {name} decoded")
        failures += 1
    refused = [(REQUEST, START, 0, {"name": "n" * 33}), (REQUEST, SUBSCRIBE, 0, {"on": 2}),
               (EVENT, EV_TUNNELS_CHANGE, 5, {}), (REPLY, START, 1, {"error": "x"}),
               (REPLY, RUNTIME_CONFIG, 1, {"total_peers": 0,
                                           "peers": [{"public_key": KEY_A}]}),
               (REQUEST, METHODS, 0, {}), (REPLY, GLOBAL_STATE, 1, {"state": STATES}),
               (REQUEST, START, 0, {"name": "a\0b"})]
    for kind, code, seq, fields in refused:
        try:
            encode(kind, code, seq, fields)
        except ValueError:
            continue
        print(f"FAIL encode accepted {kind}/{code} {fields}")
        failures += 1
    # A frame cut short anywhere is refused.
    runtime = encode(REPLY, RUNTIME_CONFIG, 1, RESULT_SAMPLES[RUNTIME_CONFIG])
    for n in range(len(runtime)):
        try:
            decode(_relen(runtime[4:n]) if n >= 4 else runtime[:n])
        except ValueError:
            continue
        print(f"FAIL truncated at {n} decoded")
        failures += 1
    failures += _selftest_socket()
    print(f"mgrproto selftest: {len(ok_samples())} round trips, {len(bad_samples())} "
          f"rejections, {failures} failures")
    return 1 if failures else 0


def _selftest_socket():
    """recv_frame*: one frame at a time, the fd with its frame, b"" at EOF."""
    failures = 0
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    r, w = os.pipe()
    try:
        logfd = encode(REPLY, LOG_FD, 3, {"log_size": 4096})
        event = encode(EVENT, EV_TUNNELS_CHANGE, 0)
        socket.send_fds(a, [logfd], [r])
        a.sendall(event + event[:5])
        frame, fd = recv_frame_with_fd(b)
        if frame != logfd or fd is None or os.fstat(fd).st_ino != os.fstat(r).st_ino:
            print(f"FAIL recv_frame_with_fd: {frame!r} {fd}")
            failures += 1
        if fd is not None:
            os.close(fd)
        if recv_frame(b) != event:
            print("FAIL recv_frame after the fd frame")
            failures += 1
        a.close()
        try:
            recv_frame(b)
            print("FAIL a frame cut by EOF was returned")
            failures += 1
        except EOFError:
            pass
        if recv_frame(b) != b"":
            print("FAIL EOF is not b\"\"")
            failures += 1
    finally:
        for x in (a, b):
            x.close()
        os.close(r)
        os.close(w)
    return failures


def write_corpus(directory):
    os.makedirs(directory, exist_ok=True)
    for name, kind, code, seq, fields in ok_samples():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(encode(kind, code, seq, fields))
    for name, frame in bad_samples():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(frame)
    return 0


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    if len(sys.argv) == 3 and sys.argv[1] == "--write-corpus":
        return write_corpus(sys.argv[2])
    print("usage: mgrproto.py --selftest | --write-corpus DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
