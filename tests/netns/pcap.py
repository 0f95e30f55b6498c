#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Minimal pcap reader for the netns tests (no scapy): UDP/IPv4 datagrams of a capture.
#   pcap.py FILE   prints "TIME SRC:PORT DST:PORT LEN HEX16" per UDP datagram
# As a module: udp_datagrams(path) -> [(ts, src, sport, dst, dport, payload)].
import socket
import struct
import sys


def udp_datagrams(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("not a pcap file: %s" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    out = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(e + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ts = sec + frac / (1e9 if nano else 1e6)
        if linktype == 1:  # Ethernet
            if len(pkt) < 14:
                continue
            etype = struct.unpack(">H", pkt[12:14])[0]
            ip = pkt[14:]
        elif linktype == 113:  # Linux cooked
            etype = struct.unpack(">H", pkt[14:16])[0]
            ip = pkt[16:]
        elif linktype == 276:  # Linux cooked v2
            etype = struct.unpack(">H", pkt[0:2])[0]
            ip = pkt[20:]
        elif linktype in (101, 228):  # raw IPv4
            etype, ip = 0x0800, pkt
        else:
            raise ValueError("unsupported link type %d" % linktype)
        if etype != 0x0800 or len(ip) < 20 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        frag = struct.unpack(">H", ip[6:8])[0]
        if frag & 0x3FFF:
            continue  # fragments: the tests keep every datagram below the MTU
        udp = ip[ihl:total]
        if len(udp) < 8:
            continue
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        payload = udp[8:ulen]
        out.append((ts, socket.inet_ntoa(ip[12:16]), sport, socket.inet_ntoa(ip[16:20]), dport,
                    payload))
    return out


def main():
    if len(sys.argv) != 2:
        print("usage: pcap.py FILE", file=sys.stderr)
        return 2
    for ts, src, sp, dst, dp, p in udp_datagrams(sys.argv[1]):
        print("%.6f %s:%d %s:%d %d %s" % (ts, src, sp, dst, dp, len(p), p[:16].hex()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
