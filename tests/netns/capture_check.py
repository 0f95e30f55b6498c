#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks the AWG wire format in a pcap of the underlay between an initiator A and a responder B
# (used by capture.sh). Arguments: PCAP then key=value settings:
#   a=IP b=IP s1..s4=N h1..h4=LO-HI hpk=HEX|"" jc=N jmin=N jmax=N trailers=0|1
#   ipkts=SIZE,SIZE,...  (expected I-packet sizes in order)  i1b=HEX (bytes of I1 at offset 2)
#   min_inits=N
# Prints what it checks; exits 1 on the first failed assertion.
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcap  # noqa: E402

L = {"init": 148, "resp": 92, "cookie": 64, "data": 32}
KINDS = ["init", "resp", "cookie", "data"]


def fail(msg):
    print("  FAIL: " + msg)
    sys.exit(1)


def ok(msg):
    print("  ok: " + msg)


def keystream(key, nonce12, n):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
    enc = Cipher(algorithms.ChaCha20(key, b"\0\0\0\0" + nonce12), mode=None).encryptor()
    return enc.update(b"\0" * n)


def selftest_keystream():
    # spec §4.5 test vector
    key = bytes.fromhex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f")
    ks = keystream(key, bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaab"), 148)
    assert ks[:16].hex() == "2d6424c920f9cee26e682503199daa6c", "ChaCha20 self-test"
    assert ks[128:148].hex() == "db2bc67212500b4801e1b3e5c2afe1f4cec69a6f", "ChaCha20 self-test"


def main():
    path = sys.argv[1]
    cfg = dict(a.split("=", 1) for a in sys.argv[2:])
    S = {"init": int(cfg["s1"]), "resp": int(cfg["s2"]), "cookie": int(cfg["s3"]),
         "data": int(cfg["s4"])}
    H = {}
    for k, hk in zip(KINDS, ["h1", "h2", "h3", "h4"]):
        lo, _, hi = cfg[hk].partition("-")
        H[k] = (int(lo), int(hi or lo))
    hpk = bytes.fromhex(cfg.get("hpk", ""))
    jc, jmin, jmax = int(cfg["jc"]), int(cfg["jmin"]), int(cfg["jmax"])
    trailers = cfg.get("trailers", "0") == "1"
    ipkts = [int(x) for x in cfg.get("ipkts", "").split(",") if x]
    i1b = bytes.fromhex(cfg.get("i1b", ""))
    min_inits = int(cfg.get("min_inits", "2"))
    if hpk:
        selftest_keystream()

    def classify(p):
        """(kind, raw LE32 at offset S_T, de-protected LE32) or ("other", None, None)."""
        ks = keystream(hpk, p[:12], 4) if hpk and len(p) >= 12 else b"\0\0\0\0"
        for k in KINDS:
            s, l = S[k], L[k]
            if k == "data":
                size_ok = len(p) >= s + l
            else:
                size_ok = len(p) == s + l or (trailers and len(p) > s + l)
            if not size_ok:
                continue
            raw = struct.unpack("<I", p[s:s + 4])[0]
            v = raw ^ struct.unpack("<I", ks)[0]
            if H[k][0] <= v <= H[k][1]:
                return k, raw, v
        return "other", None, None

    dgs = pcap.udp_datagrams(path)
    a, b = cfg["a"], cfg["b"]
    seq = {a: [], b: []}
    for ts, src, _sp, dst, _dp, p in dgs:
        if (src, dst) in ((a, b), (b, a)):
            seq[src].append((ts, p) + classify(p))
    count = {(s, k): sum(1 for d in seq[s] if d[2] == k) for s in (a, b) for k in KINDS + ["other"]}
    print("  datagrams A->B: %d (init %d, data %d, other %d); B->A: %d (resp %d, data %d, other %d)"
          % (len(seq[a]), count[(a, "init")], count[(a, "data")], count[(a, "other")],
             len(seq[b]), count[(b, "resp")], count[(b, "data")], count[(b, "other")]))

    # Initiations and what precedes them.
    inits = [i for i, d in enumerate(seq[a]) if d[2] == "init"]
    if len(inits) < min_inits:
        fail("%d initiations from A, expected >= %d" % (len(inits), min_inits))
    ok("%d initiations from A" % len(inits))
    ndecoy = len(ipkts) + jc
    for n, i in enumerate(inits):
        if i < ndecoy:
            fail("initiation #%d has only %d datagrams before it" % (n, i))
        before = seq[a][i - ndecoy:i]
        if any(d[2] != "other" for d in before):
            fail("initiation #%d: a WireGuard message among the %d decoys before it" % (n, ndecoy))
        if i > ndecoy and seq[a][i - ndecoy - 1][2] == "other":
            fail("initiation #%d: more than %d decoys before it" % (n, ndecoy))
        for k, (d, want) in enumerate(zip(before, ipkts)):
            if len(d[1]) != want:
                fail("initiation #%d: I%d is %d bytes, expected %d" % (n, k + 1, len(d[1]), want))
        for d in before[len(ipkts):]:
            if not jmin <= len(d[1]) <= jmax:
                fail("initiation #%d: junk of %d bytes outside [%d, %d]" % (n, len(d[1]), jmin, jmax))
        if ipkts and i1b:
            p, ts = before[0][1], before[0][0]
            if p[2:2 + len(i1b)] != i1b:
                fail("I1 does not carry the <b> bytes at offset 2")
            rest = p[2 + len(i1b):]
            if not (rest[:8].isalpha() and rest[:8].isascii() and rest[8:12].isdigit()):
                fail("I1 <rc 8><rd 4> part is %r" % rest[:12])
            t = struct.unpack(">I", rest[12:16])[0]
            if abs(t - ts) > 5:
                fail("I1 <t> = %d, capture time %d" % (t, ts))
        sz = len(seq[a][i][1])
        if trailers:
            if sz < S["init"] + 148:
                fail("initiation of %d bytes < s1+148" % sz)
        elif sz != S["init"] + 148:
            fail("initiation of %d bytes != s1+148 = %d" % (sz, S["init"] + 148))
    ok("every initiation is preceded by exactly %d I-packets (sizes %s) and %d junk datagrams in "
       "[%d, %d]" % (len(ipkts), ipkts, jc, jmin, jmax))
    ok("initiation sizes %s (s1+148 = %d, trailers %s)"
       % (sorted({len(seq[a][i][1]) for i in inits}), S["init"] + 148, "on" if trailers else "off"))

    resps = [d for d in seq[b] if d[2] == "resp"]
    if len(resps) < len(inits):
        fail("%d responses for %d initiations" % (len(resps), len(inits)))
    rs = sorted({len(d[1]) for d in resps})
    if trailers and min(rs) < S["resp"] + 92 or not trailers and rs != [S["resp"] + 92]:
        fail("response sizes %s (s2+92 = %d)" % (rs, S["resp"] + 92))
    ok("%d responses, sizes %s (s2+92 = %d)" % (len(resps), rs[:8], S["resp"] + 92))

    data = [d for s in (a, b) for d in seq[s] if d[2] == "data"]
    if len(data) < 10:
        fail("only %d transport datagrams" % len(data))
    small = min(len(d[1]) for d in data)
    if small < S["data"] + 32:
        fail("transport datagram of %d bytes < s4+32" % small)
    ok("%d transport datagrams, all >= s4+32 = %d (smallest %d)" % (len(data), S["data"] + 32, small))
    others_b = count[(b, "other")]
    if others_b:
        fail("B (responder) sent %d unclassifiable datagrams (decoys are initiator-only)" % others_b)
    ok("the responder sent no decoys")

    # Header values on the wire.
    msgs = [d for s in (a, b) for d in seq[s] if d[2] != "other"]
    if hpk:
        clear = [d for d in msgs if 1 <= d[3] <= 4]
        if clear:
            fail("%d datagrams carry a cleartext WireGuard type at offset S_T" % len(clear))
        inrange = [d for d in msgs if H[d[2]][0] <= d[3] <= H[d[2]][1]]
        if len(inrange) > len(msgs) // 100:
            fail("%d of %d datagrams show their magic value in clear" % (len(inrange), len(msgs)))
        ok("header protection: no cleartext type 1..4 and no visible magic value at offset S_T "
           "(%d messages; all de-protect into their H range)" % len(msgs))
    else:
        for d in msgs:
            if not H[d[2]][0] <= d[3] <= H[d[2]][1]:
                fail("raw value %d at offset S_T outside H range of %s" % (d[3], d[2]))
        vals = {d[3] for d in msgs if d[2] == "data"}
        if len(vals) < min(10, len(data) // 2):
            fail("only %d distinct H4 values over %d transport datagrams" % (len(vals), len(data)))
        ok("no header protection: every LE32 at offset S_T lies in its H range "
           "(%d distinct H4 values over %d transport datagrams)" % (len(vals), len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
