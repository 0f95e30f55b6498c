#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns `perf script -F comm,pid,tid,ip,sym,dso` output (stdin, recorded with call graphs) into
a folded-stack file, a top-30 self-symbol table, a cost-category summary and an SVG flame
graph. Used by bench/throughput.sh (BENCH_PERF=1); needs only the Python standard library.

  perf script -i perf.data -F comm,pid,tid,ip,sym,dso | bench/flame.py --pid PID --out BASE

writes BASE.folded, BASE.top.txt, BASE.summary.txt and BASE.svg. With --pid the stacks are
rooted at "awgd-main" (the thread whose tid is PID: TUN read, encrypt, UDP send) or
"awgd-rx" (the receive thread: UDP receive, decrypt, TUN write) or "awgd-cryptoN" (workers).
"""
import argparse
import collections
import html
import re
import sys

HEADER = re.compile(r"^(\S.*?)\s+(\d+)/(\d+)\s*$")
FRAME = re.compile(r"^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")


def parse(stream, pid):
    """Yields (thread, frames leaf first, each (symbol, dso)) per sample."""
    thread, frames = None, []
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if thread is not None:
                yield thread, frames
            thread, frames = None, []
            continue
        m = HEADER.match(line)
        if m and not line[0].isspace():
            if thread is not None:
                yield thread, frames
            comm, p, t = m.group(1).strip(), int(m.group(2)), int(m.group(3))
            if pid is not None and p == pid:
                # Crypto workers name themselves; the receive thread keeps the process name.
                if comm.startswith("awgd-crypto"):
                    thread = comm
                else:
                    thread = "awgd-main" if t == pid else "awgd-rx"
            else:
                thread = comm
            frames = []
            continue
        m = FRAME.match(line)
        if m and thread is not None:
            sym, dso = m.group(2), m.group(3)
            sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
            if sym == "[unknown]" and dso != "[unknown]":
                sym = "[%s]" % dso.rsplit("/", 1)[-1]
            frames.append((sym, dso))
    if thread is not None:
        yield thread, frames


def short_dso(dso):
    return dso.rsplit("/", 1)[-1]


CRYPTO = re.compile(r"chacha|poly1305|blake2|curve25519|x25519|aes|gcm|sha|hchacha|crypto_",
                    re.I)
COPY = re.compile(r"memcpy|memmove|memset|copy_user|copy_to_user|copy_from_user|copy_to_iter"
                  r"|copy_from_iter|copy_page|csum_partial_copy|rep_movs|clear_user", re.I)
LOCK = re.compile(r"futex|pthread_mutex|__lll_lock|lll_lock|queued_spin_lock|_raw_spin_lock",
                  re.I)
CSUM = re.compile(r"csum|checksum", re.I)
RANDOM = re.compile(r"crng_|get_random_bytes|getrandom|chacha_block", re.I)
SCHED = re.compile(r"finish_task_switch|__schedule|schedule$|pick_next|enqueue_task|"
                   r"dequeue_task|try_to_wake_up|ttwu", re.I)


def leaf_category(sym, dso):
    """What the CPU was doing at the sampled instruction."""
    if RANDOM.search(sym):
        return "randomness (getrandom syscall)"
    if CRYPTO.search(sym) or "libcrypto" in dso or "libsodium" in dso:
        return "crypto (ChaCha20-Poly1305 etc.)"
    if COPY.search(sym):
        return "memory copies / clears"
    if LOCK.search(sym):
        return "locks (futex, mutex, spinlocks)"
    if CSUM.search(sym):
        return "checksums"
    if SCHED.search(sym):
        return "scheduler (context switches)"
    if "kernel" in dso or dso.startswith("[k"):
        return "other kernel"
    if "awgd" in dso:
        return "awgd own code"
    if "libc" in dso:
        return "other libc"
    return "other"


# Outermost match wins: the syscall (or interrupt) a sample sits under.
CONTEXTS = [
    (re.compile(r"getrandom"), "getrandom (per-packet random bytes)"),
    (re.compile(r"sendmmsg|sendmsg|udp_sendmsg"), "UDP send (sendmmsg: UDP/IP, GSO, veth)"),
    (re.compile(r"recvmmsg|recvmsg|udp_recvmsg"), "UDP receive (recvmmsg)"),
    (re.compile(r"tun_chr_read_iter|tun_do_read"), "TUN read"),
    (re.compile(r"tun_chr_write_iter|tun_get_user"), "TUN write"),
    (re.compile(r"futex"), "futex (lock waits / wake-ups)"),
    (re.compile(r"epoll_wait|ep_poll|__x64_sys_poll|do_sys_poll"), "epoll / poll"),
    (re.compile(r"__x64_sys_read$|ksys_read$"), "other read"),
    (re.compile(r"__x64_sys_write$|ksys_write$"), "other write"),
    (re.compile(r"do_softirq|net_rx_action|irq_exit|asm_sysvec|__irq_exit"),
     "softirq / interrupts"),
    (re.compile(r"entry_SYSCALL|do_syscall_64"), "other syscalls"),
]


def context(frames):
    for rx, name in CONTEXTS:
        for sym, _ in reversed(frames):
            if rx.search(sym):
                return name
    if frames and ("kernel" in frames[0][1] or frames[0][1].startswith("[k")):
        return "other kernel"
    return "user space (no syscall)"


def svg(folded, title, path, width=1200, row=16):
    root = {"n": 0, "c": {}}
    depth = 0
    for stack, n in folded.items():
        node = root
        node["n"] += n
        parts = stack.split(";")
        depth = max(depth, len(parts))
        for p in parts:
            node = node["c"].setdefault(p, {"n": 0, "c": {}})
            node["n"] += n
    total = root["n"] or 1
    height = (depth + 3) * row
    out = ['<?xml version="1.0" standalone="no"?>',
           '<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="monospace" font-size="11">' % (width, height),
           '<rect width="100%%" height="100%%" fill="#f8f8f0"/>',
           '<text x="%d" y="14" text-anchor="middle" font-size="14">%s (%d samples)</text>'
           % (width // 2, html.escape(title), total)]
    scale = (width - 20) / total

    def color(name):
        h = sum(map(ord, name)) % 60
        if "[kernel" in name or name.endswith("_[k]"):
            return "rgb(%d,%d,%d)" % (220, 120 + h, 60)
        return "rgb(%d,%d,%d)" % (240, 180 + h // 2, 60 + h)

    def draw(node, name, x, level):
        w = node["n"] * scale
        if w < 0.3:
            return
        y = height - (level + 1) * row
        label = "%s (%d samples, %.2f%%)" % (name, node["n"], 100.0 * node["n"] / total)
        out.append('<g><title>%s</title><rect x="%.2f" y="%d" width="%.2f" height="%d" '
                   'fill="%s" stroke="#fff" stroke-width="0.5"/>'
                   % (html.escape(label), x, y, w, row - 1, color(name)))
        chars = int(w / 7)
        if chars >= 3:
            text = name if len(name) <= chars else name[:chars - 2] + ".."
            out.append('<text x="%.2f" y="%d">%s</text>' % (x + 2, y + row - 4,
                                                           html.escape(text)))
        out.append("</g>")
        cx = x
        for cname, child in sorted(node["c"].items()):
            draw(child, cname, cx, level + 1)
            cx += child["n"] * scale

    x = 10.0
    for cname, child in sorted(root["c"].items()):
        draw(child, cname, x, 0)
        x += child["n"] * scale
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pid", type=int)
    ap.add_argument("--out", required=True)
    ap.add_argument("--title", default="perf")
    ap.add_argument("--top", type=int, default=30)
    a = ap.parse_args()

    folded = collections.Counter()
    selfsym = collections.Counter()
    leaf = collections.Counter()
    ctx = collections.Counter()
    threads = collections.Counter()
    total = 0
    for thread, frames in parse(sys.stdin, a.pid):
        if not frames:
            continue
        total += 1
        threads[thread] += 1
        sym, dso = frames[0]
        selfsym[(sym, short_dso(dso))] += 1
        leaf[leaf_category(sym, dso)] += 1
        ctx[(thread, context(frames))] += 1
        names = []
        for s, d in reversed(frames):
            kern = "kernel" in d or d.startswith("[k")
            names.append(s + ("_[k]" if kern else ""))
        folded[";".join([thread] + names)] += 1
    if not total:
        sys.exit("flame.py: no samples")

    with open(a.out + ".folded", "w") as f:
        for stack, n in sorted(folded.items()):
            f.write("%s %d\n" % (stack, n))
    with open(a.out + ".top.txt", "w") as f:
        f.write("%s: top %d symbols by self samples (%d samples)\n\n" % (a.title, a.top, total))
        f.write("| # | self % | samples | symbol | object |\n|---:|---:|---:|---|---|\n")
        for i, ((s, d), n) in enumerate(selfsym.most_common(a.top), 1):
            f.write("| %d | %.2f | %d | `%s` | %s |\n" % (i, 100.0 * n / total, n, s, d))
    with open(a.out + ".summary.txt", "w") as f:
        f.write("%s (%d samples)\n\nThreads:\n" % (a.title, total))
        for t, n in threads.most_common():
            f.write("  %6.2f%%  %s\n" % (100.0 * n / total, t))
        f.write("\nBy leaf (what the sampled instruction was):\n")
        for c, n in leaf.most_common():
            f.write("  %6.2f%%  %s\n" % (100.0 * n / total, c))
        f.write("\nBy context (thread, syscall or interrupt the sample sits under):\n")
        for (t, c), n in sorted(ctx.items(), key=lambda kv: (-kv[1])):
            f.write("  %6.2f%%  %-10s %s\n" % (100.0 * n / total, t, c))
    svg(folded, a.title, a.out + ".svg")


if __name__ == "__main__":
    main()
