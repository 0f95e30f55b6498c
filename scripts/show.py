#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Prints an interface's state from its UAPI socket, laid out like `awg show` (for the demo;
# the real `awg` CLI is a C program of its own).
import base64
import os
import sys
import time

# The UAPI client of the netns tests does the socket exchange.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "netns"))
from uapi import request  # noqa: E402


def get(path):
    return request(path, "get=1\n\n").splitlines()


def b64(hexkey):
    return base64.b64encode(bytes.fromhex(hexkey)).decode()


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.2f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024


def main():
    path, name = sys.argv[1], sys.argv[2]
    dev, peers, cur = {}, [], None
    for line in get(path):
        if "=" not in line:
            continue
        k, v = line.split("=", 1)
        if k == "public_key":
            cur = {"public_key": v, "allowed_ips": []}
            peers.append(cur)
        elif k == "allowed_ip" and cur is not None:
            cur["allowed_ips"].append(v)
        elif cur is not None:
            cur[k] = v
        else:
            dev[k] = v
    print(f"interface: {name}")
    print("  private key: (hidden)")
    if "listen_port" in dev:
        print(f"  listening port: {dev['listen_port']}")
    awg = [k for k in ("jc", "jmin", "jmax", "s1", "s2", "s3", "s4", "h1", "h2", "h3", "h4")
           if k in dev]
    for k in awg:
        print(f"  {k}: {dev[k]}")
    for k in ("i1", "i2", "i3", "i4", "i5"):
        if k in dev:
            print(f"  {k}: {dev[k][:60]}{'...' if len(dev[k]) > 60 else ''}")
    if "header_protection_key" in dev:
        print("  header protection: on")
    for k in ("content_padding_addition", "random_trailers"):
        if k in dev:
            print(f"  {k.replace('_', ' ')}: {dev[k]}")
    for p in peers:
        print(f"\npeer: {b64(p['public_key'])}")
        if "endpoint" in p:
            print(f"  endpoint: {p['endpoint']}")
        print(f"  allowed ips: {', '.join(p['allowed_ips']) or '(none)'}")
        t = int(p.get("last_handshake_time_sec", "0"))
        if t:
            print(f"  latest handshake: {max(0, int(time.time()) - t)} seconds ago")
        print(f"  transfer: {human(int(p.get('rx_bytes', 0)))} received, "
              f"{human(int(p.get('tx_bytes', 0)))} sent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
