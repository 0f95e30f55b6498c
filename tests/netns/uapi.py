#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A minimal UAPI client for the tests: `uapi.py SOCKET get` prints the get reply;
# `uapi.py SOCKET set < lines` sends "set=1" + stdin lines + blank line and exits with the
# errno the daemon answered (0 = success, else 1 with the errno on stderr).
import socket
import sys


def request(path, text):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(text.encode())
    data = b""
    while not data.endswith(b"\n\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode()


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("get", "set"):
        print("usage: uapi.py SOCKET get|set", file=sys.stderr)
        return 2
    path, op = sys.argv[1], sys.argv[2]
    if op == "get":
        reply = request(path, "get=1\n\n")
        sys.stdout.write(reply)
        return 0 if "errno=0\n" in reply else 1
    lines = [l for l in sys.stdin.read().splitlines() if l.strip()]
    reply = request(path, "set=1\n" + "".join(l + "\n" for l in lines) + "\n")
    if reply.strip() != "errno=0":
        print("set failed: " + reply.strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
