#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Raw UAPI conversations for lifecycle.sh: uapi_raw.py SOCKET CASE; prints what it checks and
# exits 1 on a mismatch. Cases: get-trailing, unknown-key, no-equals, multi-get, pipelined,
# unknown-op.
import socket
import sys


def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


def reply(s):
    """Reads one reply (up to and including the blank line)."""
    data = b""
    while not (data.endswith(b"\n\n") and (data == b"\n\n" or b"errno=" in data)):
        c = s.recv(1)
        if not c:
            raise EOFError("connection closed after %r" % data)
        data += c
    return data.decode()


def expect(what, got, want):
    if got != want:
        print("  FAIL: %s: got %r, expected %r" % (what, got, want))
        sys.exit(1)
    print("  ok: %s -> %r" % (what, got.strip()))


def main():
    path, case = sys.argv[1], sys.argv[2]
    s = conn(path)
    if case == "get-trailing":
        s.sendall(b"get=1\nlisten_port=1\n\n")
        expect("get=1 followed by a non-empty line", reply(s), "errno=-22\n\n")
    elif case == "unknown-key":
        s.sendall(b"set=1\nno_such_key=1\n\n")
        expect("set with an unknown device key", reply(s), "errno=-22\n\n")
        s = conn(path)
        s.sendall(b"set=1\npublic_key=" + b"11" * 32 + b"\nno_such_peer_key=1\n\n")
        expect("set with an unknown peer key", reply(s), "errno=-22\n\n")
    elif case == "no-equals":
        s.sendall(b"set=1\nlisten_port\n\n")
        expect("set line without '='", reply(s), "errno=-71\n\n")
    elif case == "multi-get":
        first = None
        for i in range(4):
            s.sendall(b"get=1\n\n")
            r = reply(s)
            if not r.endswith("errno=0\n\n") or "listen_port=" not in r:
                print("  FAIL: get #%d on one connection: %r" % (i + 1, r))
                sys.exit(1)
            first = first or r
        print("  ok: 4 sequential gets on one connection, each answered")
        s.sendall(b"set=1\njc=2\n\n")
        expect("set on the same connection", reply(s), "errno=0\n\n")
        s.sendall(b"get=1\n\n")
        r = reply(s)
        if "\njc=2\n" not in r:
            print("  FAIL: get after set does not show jc=2: %r" % r)
            sys.exit(1)
        print("  ok: get after set on the same connection shows jc=2")
    elif case == "pipelined":
        s.sendall(b"get=1\n\nget=1\n\nget=1\n\n")
        for i in range(3):
            r = reply(s)
            if not r.endswith("errno=0\n\n"):
                print("  FAIL: pipelined get #%d: %r" % (i + 1, r))
                sys.exit(1)
        print("  ok: 3 pipelined gets sent at once, 3 replies")
    elif case == "unknown-op":
        s.sendall(b"frobnicate=1\n\n")
        try:
            d = s.recv(100)
        except socket.timeout:
            print("  FAIL: unknown operation: connection neither answered nor closed")
            sys.exit(1)
        expect("unknown operation closes the connection without an answer", d.decode(), "")
    else:
        print("unknown case", case, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
