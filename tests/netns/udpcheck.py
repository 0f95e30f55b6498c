#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# UDP integrity check for the netns tests (offload.sh): datagrams of mixed sizes, each carrying
# its sequence number and a hash of itself, so every datagram that arrives can be verified.
#   udpcheck.py send DST PORT COUNT PPS [gso]
#       COUNT datagrams, paced to PPS; datagram SEQ has size (SEQ // 8) % 1400 + 1. Datagrams of
#       12 bytes or more are [seq u32 le][blake2b-64(seq || body)][random body]; shorter ones
#       ("tiny") hold a fixed pattern of their size. With "gso", every other group of 8
#       same-sized datagrams goes out as one UDP_SEGMENT send (USO towards the TUN) where the
#       size fits the path MTU. Prints "sent N bytes B gso_sends G".
#   udpcheck.py recv ADDR PORT EXPECTED TIMEOUT_S [gro]
#       receives until EXPECTED datagrams arrived, 1.5 s of silence after the first one, or
#       TIMEOUT_S; "gro" enables UDP_GRO on the socket (coalesced reads are split at the
#       segment size). Prints "listening", then
#       "recv N bytes B good G tiny T bad K dup D gro_reads R".
import hashlib
import os
import socket
import struct
import sys
import time

SOL_UDP = 17
UDP_SEGMENT = 103
UDP_GRO = 104
GROUP = 8
HDR = 12


def size_of(seq):
    return (seq // GROUP) % 1400 + 1


def tiny(size):
    return hashlib.sha256(b"tiny" + bytes([size])).digest()[:size]


def datagram(seq, size, rnd):
    if size < HDR:
        return tiny(size)
    body = rnd[: size - HDR]
    s = struct.pack("<I", seq)
    return s + hashlib.blake2b(s + body, digest_size=8).digest() + body


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def xmit(s, b):
    # A lost datagram is the receiver's to count; a queued ICMP error must not end the run.
    try:
        s.send(b)
    except ConnectionRefusedError:
        pass


def send(dst, port, count, pps, gso):
    fam = family(dst)
    # Largest UDP payload that fits the tunnel MTU (1420) unfragmented, for UDP_SEGMENT.
    seg_max = 1420 - (48 if fam == socket.AF_INET6 else 28)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.connect((dst, port))
    pool = os.urandom(1 << 16)
    sent = nbytes = gso_sends = 0
    t0 = time.monotonic()
    seq = 0
    while seq < count:
        n = min(GROUP - seq % GROUP, count - seq)
        size = size_of(seq)
        off = (seq * 131) % (len(pool) - 1500)
        dgs = [datagram(seq + i, size, pool[off + i * 7:off + i * 7 + size]) for i in range(n)]
        if gso and n > 1 and size >= HDR and size <= seg_max and (seq // GROUP) % 2 == 0:
            s.setsockopt(SOL_UDP, UDP_SEGMENT, size)
            xmit(s, b"".join(dgs))
            s.setsockopt(SOL_UDP, UDP_SEGMENT, 0)
            gso_sends += 1
        else:
            for d in dgs:
                xmit(s, d)
        sent += n
        nbytes += n * size
        seq += n
        ahead = sent / pps - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    dt = time.monotonic() - t0
    print("sent %d bytes %d gso_sends %d seconds %.2f" % (sent, nbytes, gso_sends, dt), flush=True)


def recv(addr, port, expected, timeout, gro):
    fam = family(addr)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE (root)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    if gro:
        s.setsockopt(SOL_UDP, UDP_GRO, 1)
    s.bind((addr, port))
    s.settimeout(0.25)
    print("listening", flush=True)
    seen = bytearray((expected // 8) + 1 + (1 << 17))
    n = nbytes = good = ntiny = bad = dup = gro_reads = 0
    deadline = time.monotonic() + timeout
    last = None
    while n < expected and time.monotonic() < deadline:
        try:
            buf, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(4))
        except socket.timeout:
            if last is not None and time.monotonic() - last > 1.5:
                break
            continue
        last = time.monotonic()
        seg = len(buf)
        for level, typ, data in anc:
            if level == SOL_UDP and typ == UDP_GRO and len(data) >= 2:
                seg = struct.unpack("=i", data[:4])[0] if len(data) >= 4 else \
                    struct.unpack("=H", data[:2])[0]
        if seg < len(buf):
            gro_reads += 1
        for o in range(0, len(buf), max(seg, 1)):
            d = buf[o:o + seg]
            n += 1
            nbytes += len(d)
            if len(d) < HDR:
                if d == tiny(len(d)):
                    ntiny += 1
                else:
                    bad += 1
                continue
            sq = struct.unpack("<I", d[:4])[0]
            if (sq >= expected or size_of(sq) != len(d) or
                    hashlib.blake2b(d[:4] + d[HDR:], digest_size=8).digest() != d[4:HDR]):
                bad += 1
                continue
            if seen[sq >> 3] & (1 << (sq & 7)):
                dup += 1
                continue
            seen[sq >> 3] |= 1 << (sq & 7)
            good += 1
    print("recv %d bytes %d good %d tiny %d bad %d dup %d gro_reads %d" %
          (n, nbytes, good, ntiny, bad, dup, gro_reads), flush=True)


def main(a):
    if len(a) >= 5 and a[0] == "send":
        send(a[1], int(a[2]), int(a[3]), float(a[4]), len(a) > 5 and a[5] == "gso")
    elif len(a) >= 5 and a[0] == "recv":
        recv(a[1], int(a[2]), int(a[3]), float(a[4]), len(a) > 5 and a[5] == "gro")
    else:
        print(__doc__ or "usage: see the header", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
