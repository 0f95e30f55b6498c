#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# TCP bulk transfer with checksums for the netns tests:
#   transfer.py serve ADDR PORT      accept one connection, read to EOF, print "sha256 N HEX"
#   transfer.py send ADDR PORT MIB [MBIT]
#                                    send MIB MiB of pseudo-random data (paced to MBIT Mbit/s if
#                                    given), print "sha256 N HEX" and "rate MBIT" (throughput)
import hashlib
import os
import random
import socket
import sys
import time

CHUNK = 1 << 16


def serve(addr, port):
    ls = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(30)
    print("listening", flush=True)
    conn, _ = ls.accept()
    conn.settimeout(30)
    h = hashlib.sha256()
    n = 0
    while True:
        b = conn.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    conn.close()
    print("sha256 %d %s" % (n, h.hexdigest()), flush=True)


def send(addr, port, mib, pace=0.0):
    total = mib << 20
    rng = random.Random(os.urandom(16))
    deadline = time.monotonic() + 10
    while True:
        try:
            s = socket.create_connection((addr, port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    s.settimeout(30)
    h = hashlib.sha256()
    t0 = time.monotonic()
    sent = 0
    while sent < total:
        b = rng.randbytes(min(CHUNK, total - sent))
        s.sendall(b)
        h.update(b)
        sent += len(b)
        if pace:
            ahead = sent * 8 / (pace * 1e6) - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    s.shutdown(socket.SHUT_WR)
    # Wait for the server to close: everything was received.
    while s.recv(4096):
        pass
    dt = time.monotonic() - t0
    s.close()
    print("sha256 %d %s" % (sent, h.hexdigest()))
    print("rate %.0f" % (sent * 8 / dt / 1e6))
    print("seconds %.2f" % dt, flush=True)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) >= 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
             float(sys.argv[5]) if len(sys.argv) > 5 else 0.0)
    else:
        print(__doc__ or "usage: transfer.py serve ADDR PORT | send ADDR PORT MIB", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
