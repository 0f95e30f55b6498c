#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A minimal DNS server and client for the kill-switch test (killswitch.sh): whether DNS to an
# address gets through, over UDP and TCP.
#   dnsprobe.py serve ADDR PORT
#       answers every query on ADDR:PORT (UDP and TCP) with the A record 192.0.2.1 until
#       killed; prints "listening" once both sockets are bound.
#   dnsprobe.py query ADDR PORT [--tcp] [--timeout S]
#       sends one A query for probe.killswitch.test (default timeout 2 s); exits 0 if an
#       answer with that record came back, 1 if not (timeout, refused, dropped with EPERM).
import os
import select
import socket
import struct
import sys
import threading

ANSWER_ADDR = bytes([192, 0, 2, 1])
QNAME = "probe.killswitch.test"


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def question_end(msg):
    """Offset just past the first question (name, type, class), or None if malformed."""
    off = 12
    while off < len(msg):
        n = msg[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0:
            return None
        off += 1 + n
    else:
        return None
    off += 4
    return off if off <= len(msg) else None


def make_answer(query):
    """The reply to QUERY: same id and question, one A record 192.0.2.1 (TTL 60)."""
    if len(query) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", query[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    end = question_end(query)
    if end is None:
        return None
    rd = flags & 0x0100
    header = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080, 1, 1, 0, 0)
    # The answer's name points back at the question's (offset 12).
    rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + ANSWER_ADDR
    return header + query[12:end] + rr


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        b = conn.recv(n - len(buf))
        if not b:
            return None
        buf += b
    return buf


def serve_tcp_conn(conn):
    conn.settimeout(10)
    try:
        while True:
            hdr = recv_exact(conn, 2)
            if hdr is None:
                return
            msg = recv_exact(conn, struct.unpack("!H", hdr)[0])
            if msg is None:
                return
            ans = make_answer(msg)
            if ans is None:
                return
            conn.sendall(struct.pack("!H", len(ans)) + ans)
    except OSError:
        pass
    finally:
        conn.close()


def serve(addr, port):
    fam = family(addr)
    us = socket.socket(fam, socket.SOCK_DGRAM)
    us.bind((addr, port))
    ts = socket.socket(fam, socket.SOCK_STREAM)
    ts.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ts.bind((addr, port))
    ts.listen(16)
    print("listening", flush=True)
    while True:
        ready, _, _ = select.select([us, ts], [], [])
        if us in ready:
            try:
                msg, peer = us.recvfrom(4096)
                ans = make_answer(msg)
                if ans is not None:
                    us.sendto(ans, peer)
            except OSError:
                pass
        if ts in ready:
            try:
                conn, _ = ts.accept()
            except OSError:
                continue
            threading.Thread(target=serve_tcp_conn, args=(conn,), daemon=True).start()


def is_answer(qid, msg):
    if msg is None or len(msg) < 12:
        return False
    rid, flags, _, ancount = struct.unpack("!HHHH", msg[:8])
    return rid == qid and flags & 0x8000 and flags & 0x000F == 0 and ancount >= 1 \
        and msg.endswith(ANSWER_ADDR)


def query(addr, port, tcp, timeout):
    qid = struct.unpack("!H", os.urandom(2))[0]
    msg = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + encode_name(QNAME) + \
        struct.pack("!HH", 1, 1)
    s = socket.socket(family(addr), socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        if tcp:
            s.connect((addr, port))
            s.sendall(struct.pack("!H", len(msg)) + msg)
            hdr = recv_exact(s, 2)
            reply = recv_exact(s, struct.unpack("!H", hdr)[0]) if hdr else None
        else:
            s.sendto(msg, (addr, port))
            reply, _ = s.recvfrom(4096)
    except OSError as e:
        print(f"no answer from {addr}:{port}: {e}", file=sys.stderr)
        return 1
    finally:
        s.close()
    if not is_answer(qid, reply):
        print(f"bad answer from {addr}:{port}", file=sys.stderr)
        return 1
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "serve":
        serve(argv[2], int(argv[3]))
        return 0
    if len(argv) >= 4 and argv[1] == "query":
        tcp = "--tcp" in argv[4:]
        timeout = 2.0
        if "--timeout" in argv[4:]:
            timeout = float(argv[argv.index("--timeout") + 1])
        return query(argv[2], int(argv[3]), tcp, timeout)
    print("usage: dnsprobe.py serve ADDR PORT | query ADDR PORT [--tcp] [--timeout S]",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
