#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Moves N MiB of random bytes over TCP from namespace A to a listener in namespace B and checks
# that the SHA-256 of what arrived equals what was sent. Both ends are tests/netns/transfer.py;
# this only runs them with `ip netns exec` and compares their reports. Usage:
#   transfer.py NS_A NS_B ADDR_IN_B MIB
import os
import subprocess
import sys

PORT = 5399
TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "netns",
                    "transfer.py")


def field(out, key):
    """The rest of the line of out that starts with key, or ''."""
    for line in out.splitlines():
        if line.startswith(key + " "):
            return line[len(key) + 1:].strip()
    return ""


def main(argv):
    if len(argv) != 4:
        print("usage: transfer.py NS_A NS_B ADDR_IN_B MIB", file=sys.stderr)
        return 2
    ns_a, ns_b, addr, mib = argv
    server = subprocess.Popen(["ip", "netns", "exec", ns_b, sys.executable, TOOL, "serve", addr,
                               str(PORT)], stdout=subprocess.PIPE, text=True)
    sent = subprocess.run(["ip", "netns", "exec", ns_a, sys.executable, TOOL, "send", addr,
                           str(PORT), mib], capture_output=True, text=True, timeout=120)
    got, _ = server.communicate(timeout=120)
    if sent.returncode != 0 or server.returncode != 0:
        print("transfer failed:", sent.stderr.strip(), file=sys.stderr)
        return 1
    print(f"  sent     {field(sent.stdout, 'sha256')}")
    print(f"  received {field(got, 'sha256')}")
    if not field(got, "sha256") or field(sent.stdout, "sha256") != field(got, "sha256"):
        print("transfer: MISMATCH", file=sys.stderr)
        return 1
    print(f"  {mib} MiB intact in {field(sent.stdout, 'seconds')} s "
          f"({field(sent.stdout, 'rate')} Mbit/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
