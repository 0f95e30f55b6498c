#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Handshake-initiation flooder for cookie.sh: plain WireGuard initiations (148 bytes) with a
# valid mac1 for the responder's public key and random garbage elsewhere, so they pass the MAC
# check and fail in Noise: the load the cookie mechanism exists for.
#   flood.py DST_IP DST_PORT RESPONDER_PUB_HEX PPS SECONDS MAX_PACKETS
# Prints "sent N replies M cookies K" (K = 64-byte type-3 datagrams received).
import hashlib
import os
import socket
import sys
import time


def initiation(mac1_key):
    msg = bytearray(b"\x01\0\0\0" + os.urandom(112))
    mac1 = hashlib.blake2s(bytes(msg), key=mac1_key, digest_size=16).digest()
    return bytes(msg) + mac1 + b"\0" * 16


def main():
    dst = (sys.argv[1], int(sys.argv[2]))
    pub = bytes.fromhex(sys.argv[3])
    pps, seconds, maxn = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    mac1_key = hashlib.blake2s(b"mac1----" + pub).digest()
    pool = [initiation(mac1_key) for _ in range(512)]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setblocking(False)
    sent = replies = cookies = 0
    t0 = time.monotonic()
    burst = 64

    def drain():
        nonlocal replies, cookies
        while True:
            try:
                d = s.recv(2048)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionRefusedError:
                continue
            replies += 1
            if len(d) == 64 and d[:4] == b"\x03\0\0\0":
                cookies += 1

    while sent < maxn:
        now = time.monotonic() - t0
        if now >= seconds:
            break
        for _ in range(burst):
            try:
                s.sendto(pool[sent % len(pool)], dst)
            except (BlockingIOError, ConnectionRefusedError):
                pass
            sent += 1
        drain()
        ahead = sent / pps - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    end = time.monotonic() + 1
    while time.monotonic() < end:
        drain()
        time.sleep(0.05)
    print("sent %d replies %d cookies %d seconds %.1f" % (sent, replies, cookies,
                                                          time.monotonic() - t0 - 1), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
