#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Moves N MiB of random bytes over TCP from namespace A to a listener in namespace B and checks
# that the SHA-256 of what arrived equals what was sent. Usage:
#   transfer.py NS_A NS_B ADDR_IN_B MIB        (driver: runs both ends with `ip netns exec`)
#   transfer.py serve ADDR PORT                (receiver; prints "<bytes> <sha256>")
#   transfer.py send ADDR PORT MIB             (sender; prints "<bytes> <sha256>")
import hashlib
import os
import socket
import subprocess
import sys
import time

PORT = 5399
CHUNK = 1 << 16


def serve(addr, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(30)
    conn, _ = ls.accept()
    conn.settimeout(60)
    h, n = hashlib.sha256(), 0
    while True:
        b = conn.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(n, h.hexdigest(), flush=True)


def send(addr, port, mib):
    s = socket.create_connection((addr, port), timeout=30)
    h, n, total = hashlib.sha256(), 0, mib << 20
    block = os.urandom(1 << 20)
    while n < total:
        # Vary the data so a stuck or replayed segment cannot go unnoticed.
        chunk = hashlib.sha256(n.to_bytes(8, "little")).digest() + block[32:]
        s.sendall(chunk)
        h.update(chunk)
        n += len(chunk)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    print(n, h.hexdigest(), flush=True)


def drive(ns_a, ns_b, addr, mib):
    me = os.path.abspath(__file__)
    server = subprocess.Popen(["ip", "netns", "exec", ns_b, sys.executable, me, "serve", addr,
                               str(PORT)], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    t0 = time.monotonic()
    sent = subprocess.run(["ip", "netns", "exec", ns_a, sys.executable, me, "send", addr,
                           str(PORT), str(mib)], capture_output=True, text=True, timeout=120)
    got, _ = server.communicate(timeout=120)
    secs = time.monotonic() - t0
    if sent.returncode != 0 or server.returncode != 0:
        print("transfer failed:", sent.stderr.strip(), file=sys.stderr)
        return 1
    print(f"  sent     {sent.stdout.strip()}")
    print(f"  received {got.strip()}")
    if sent.stdout.split() != got.split():
        print("transfer: MISMATCH", file=sys.stderr)
        return 1
    print(f"  {mib} MiB intact in {secs:.2f} s ({mib * 8 * 1.048576 / secs:.0f} Mbit/s)")
    return 0


def main(argv):
    if len(argv) == 3 and argv[0] == "serve":
        serve(argv[1], int(argv[2]))
        return 0
    if len(argv) == 4 and argv[0] == "send":
        send(argv[1], int(argv[2]), int(argv[3]))
        return 0
    if len(argv) == 4:
        return drive(argv[0], argv[1], argv[2], int(argv[3]))
    print(__doc__ or "usage: see the header", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
