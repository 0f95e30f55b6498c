#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A raw client of awg-manager for tests/netns/manager.sh: it speaks the wire protocol through
# mgrproto.py and asserts on the exact bytes the manager sends.
#
#   mgrtool.py SOCK call METHOD [k=v ...]        one request; prints the reply as JSON;
#                                                exit 0 on status 0, 3 on a refusal
#   mgrtool.py SOCK nosecrets NAME SECRETS       StoredConfig + RuntimeConfig; exit 1 if any
#                                                line of the SECRETS file (a base64 key is also
#                                                searched as raw bytes) is in the raw replies
#   mgrtool.py SOCK fuzz DIR [RANDOM]            each corpus file on its own connection, then
#                                                RANDOM mutated frames; a witness connection
#                                                must get answers throughout
#   mgrtool.py SOCK concurrent N                 N connections at once, 3 requests each
#   mgrtool.py SOCK slowreader PID NAME CONF     a subscriber that never reads, while events are
#                                                generated (Create NAME from CONF); it must be
#                                                disconnected; prints the manager's RSS
#   mgrtool.py SOCK events NAME STATE,... SECS   waits for TunnelChange of NAME through the
#                                                given states in order
#   mgrtool.py SOCK expect EVENT SECS            subscribes and waits for one event by name
#   mgrtool.py SOCK update-run SECS              subscribes, calls Update and prints each
#                                                UpdateProgress; exit 0 on complete without
#                                                error, 1 on an error event, 3 if Update was
#                                                refused, 2 if nothing final came in SECS
import base64
import json
import os
import random
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mgrproto as mp  # noqa: E402


def connect(path, timeout=10):
    """A connected socket. A full listen backlog makes a connect with a timeout fail with
    EAGAIN at once (a Unix socket does not wait in that mode), so that is retried."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def call_raw(s, code, seq=1, **fields):
    """Sends one request; returns (raw reply bytes, decoded dict, fd or None)."""
    s.sendall(mp.request(code, seq, **fields))
    while True:
        raw, fd = mp.recv_frame_with_fd(s)
        if not raw:
            raise EOFError("the manager closed the connection")
        d = mp.decode(raw)
        if d["kind"] == mp.REPLY:
            if d["seq"] != seq or d["code"] != code:
                raise ValueError(f"reply {d['code']}/{d['seq']} to request {code}/{seq}")
            return raw, d, fd
        if fd is not None:
            os.close(fd)


def method_code(name):
    for i, n in enumerate(mp.METHOD_NAMES):
        if n.lower() == name.lower():
            return i
    raise SystemExit(f"unknown method {name}")


def printable(d):
    return {k: (v.hex() if isinstance(v, bytes) else v) for k, v in d.items()}


def fd_writable(fd):
    """Whether fd was opened for writing (O_ACCMODE of its flags in /proc/self/fdinfo)."""
    for line in open(f"/proc/self/fdinfo/{fd}"):
        if line.startswith("flags:"):
            return int(line.split()[1], 8) & 3 != 0
    return True


def cmd_call(path, args):
    code = method_code(args[0])
    fields = {}
    for kv in args[1:]:
        k, v = kv.split("=", 1)
        fields[k] = v.lower() in ("1", "true") if k in ("on", "overwrite", "stop_tunnels") else v
    with connect(path) as s:
        _, d, fd = call_raw(s, code, 7, **fields)
    if fd is not None:
        d["fd_size"] = os.fstat(fd).st_size
        d["fd_writable"] = fd_writable(fd)
        os.close(fd)
    print(json.dumps(printable(d), default=str))
    return 0 if d["status"] == 0 else 3


def cmd_nosecrets(path, args):
    name, secrets_file = args
    secrets = [l.rstrip("\n") for l in open(secrets_file) if l.strip()]
    needles = []
    for sec in secrets:
        needles.append(sec.encode())
        try:
            raw = base64.b64decode(sec, validate=True)
            if len(raw) == 32:
                needles.append(raw)
        except Exception:
            pass
    bad = 0
    with connect(path) as s:
        for code in (mp.STORED_CONFIG, mp.RUNTIME_CONFIG):
            raw, d, _ = call_raw(s, code, 3, name=name)
            if d["status"]:
                print(f"{mp.METHOD_NAMES[code]}: refused: {d['error']}")
                return 2
            for n in needles:
                if n in raw:
                    print(f"{mp.METHOD_NAMES[code]}: secret found in the raw reply: {n[:12]!r}...")
                    bad += 1
            if code == mp.STORED_CONFIG:
                placeholder = base64.b64encode(bytes(32)).decode()
                if placeholder not in d["config"]:
                    print("StoredConfig: no placeholder key for peer 0 in the config")
                    bad += 1
            else:
                print(f"RuntimeConfig: running={d['running']} peers={len(d['peers'])} "
                      f"has_public_key={d['has_public_key']}")
                if d["running"] and (not d["peers"] or d["peers"][0]["public_key"] != bytes(32)):
                    print("RuntimeConfig: runtime peer 0 is not the placeholder of index 0")
                    bad += 1
                if d["has_public_key"] or d["public_key"] != bytes(32):
                    print("RuntimeConfig: the interface public key was sent to an operator")
                    bad += 1
    print(f"checked {len(needles)} secret forms in 2 replies: {bad} problems")
    return 1 if bad else 0


def witness_ok(w, seq):
    _, d, _ = call_raw(w, mp.ROLE, seq)
    return d["status"] == 0


def send_garbage(path, data):
    """Sends data on a fresh connection; returns True if the manager closed it."""
    with connect(path, timeout=3) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            return True
        try:
            while True:
                raw = mp.recv_frame(s)
                if not raw:
                    return True
        except (ConnectionResetError, EOFError, ValueError):
            return True
        except socket.timeout:
            return False


def mutate(frame, rnd):
    b = bytearray(frame)
    for _ in range(rnd.randint(1, 4)):
        op = rnd.randrange(4)
        if op == 0 and b:
            b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
        elif op == 1 and len(b) > 1:
            del b[rnd.randrange(len(b)):]
        elif op == 2:
            b += bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 8)))
        elif len(b) >= 8:
            b[4 + rnd.randrange(4)] = rnd.randrange(256)
    return bytes(b)


def cmd_fuzz(path, args):
    corpus = args[0]
    count = int(args[1]) if len(args) > 1 else 0
    files = sorted(os.listdir(corpus))
    rnd = random.Random(1)
    w = connect(path)
    seq = 100
    sent = 0
    seeds = []
    for f in files:
        data = open(os.path.join(corpus, f), "rb").read()
        seeds.append(data)
        send_garbage(path, data)
        sent += 1
        seq += 1
        if not witness_ok(w, seq):
            print(f"witness refused after {f}")
            return 1
    for i in range(count):
        send_garbage(path, mutate(rnd.choice(seeds), rnd))
        sent += 1
        if i % 50 == 0:
            seq += 1
            if not witness_ok(w, seq):
                print(f"witness refused after mutation {i}")
                return 1
    seq += 1
    ok = witness_ok(w, seq)
    w.close()
    print(f"replayed {len(files)} corpus frames and {count} mutations; witness "
          f"{'answered throughout' if ok else 'FAILED'}")
    return 0 if ok else 1


def cmd_concurrent(path, args):
    n = int(args[0])
    socks = [connect(path, timeout=30) for _ in range(n)]
    results = [None] * n
    barrier = threading.Barrier(n)

    def worker(i):
        try:
            barrier.wait()
            codes = (mp.TUNNELS, mp.ROLE, mp.GLOBAL_STATE)
            for j, code in enumerate(codes):
                _, d, _ = call_raw(socks[i], code, j + 1)
                if d["status"]:
                    raise ValueError(d["error"])
            results[i] = True
        except Exception as e:  # noqa: BLE001
            results[i] = e

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    for s in socks:
        s.close()
    failed = [r for r in results if r is not True]
    print(f"{n} concurrent clients, {3 * n} requests: {n - len(failed)} answered in full, "
          f"{dt * 1000:.0f} ms")
    for r in failed[:5]:
        print(f"  failure: {r!r}")
    return 1 if failed else 0


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def peer_closed(s):
    """True once the manager has closed the (unread) connection."""
    p = select.poll()
    p.register(s, select.POLLRDHUP | select.POLLHUP)
    return any(ev & (select.POLLRDHUP | select.POLLHUP) for _, ev in p.poll(0))


def cmd_slowreader(path, args):
    pid, name, conf = int(args[0]), args[1], open(args[2]).read()
    before = rss_kib(pid)
    slow = connect(path)
    _, d, _ = call_raw(slow, mp.SUBSCRIBE, 1, on=True)
    assert d["status"] == 0
    gen = connect(path)
    peak = before
    events = 0
    for i in range(3000):
        _, d, _ = call_raw(gen, mp.CREATE, i + 2, name=name, config=conf, overwrite=True)
        if d["status"]:
            print(f"Create refused: {d['error']}")
            return 1
        events += 1
        if i % 20 == 0:
            peak = max(peak, rss_kib(pid))
            if peer_closed(slow):
                break
    time.sleep(0.3)
    closed = peer_closed(slow)
    after = rss_kib(pid)
    # Drain what the kernel buffered: the stream must end with EOF (the manager hung up).
    slow.settimeout(5)
    frames = 0
    try:
        while mp.recv_frame(slow):
            frames += 1
    except (ConnectionResetError, EOFError):
        pass
    slow.close()
    gen.close()
    print(f"slow reader: disconnected={closed} after {events} Creates "
          f"({frames} events were buffered for it); manager RSS {before} KiB before, "
          f"peak {peak} KiB, {after} KiB after")
    if not closed:
        return 1
    if peak - before > 16 * 1024:
        print("RSS grew by more than 16 MiB")
        return 1
    return 0


def frames_until(s, deadline):
    """Yields each decoded frame from s until the deadline; yields None once if the manager
    hangs up."""
    while time.monotonic() < deadline:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            raw = mp.recv_frame(s)
        except socket.timeout:
            return
        if not raw:
            yield None
            return
        yield mp.decode(raw)


def watch_events(path, secs, on_event):
    """Subscribes, prints "subscribed", then feeds events to on_event until it returns True
    (then True) or secs pass or the manager hangs up (then False)."""
    s = connect(path, timeout=secs)
    _, d, _ = call_raw(s, mp.SUBSCRIBE, 1, on=True)
    assert d["status"] == 0
    print("subscribed", flush=True)
    for ev in frames_until(s, time.monotonic() + secs):
        if ev is None:
            break
        if ev["kind"] == mp.EVENT and on_event(ev):
            return True
    return False


def cmd_events(path, args):
    name, states, secs = args[0], args[1].split(","), float(args[2])
    want = [mp.STATE_NAMES.index(s) for s in states]
    seen = []

    def on_event(ev):
        if ev["code"] != mp.EV_TUNNEL_CHANGE or ev["name"] != name:
            return False
        seen.append(f"{mp.STATE_NAMES[ev['state']]}({ev['error']})")
        if ev["state"] == want[0]:
            want.pop(0)
        return not want

    done = watch_events(path, secs, on_event)
    print("events: " + ", ".join(seen))
    return 0 if done else 1


def cmd_expect(path, args):
    code, secs = mp.EVENT_NAMES.index(args[0]), float(args[1])
    if watch_events(path, secs, lambda ev: ev["code"] == code):
        print(f"got {args[0]}")
        return 0
    print(f"no {args[0]} within {secs} s")
    return 1


def cmd_update_run(path, args):
    secs = float(args[0])
    deadline = time.monotonic() + secs
    s = connect(path, timeout=secs)
    _, d, _ = call_raw(s, mp.SUBSCRIBE, 1, on=True)
    if d["status"]:
        print(f"error: Subscribe refused: {d['error']}")
        return 3
    s.sendall(mp.request(mp.UPDATE, 2))
    for m in frames_until(s, deadline):
        if m is None:
            print("error: the manager closed the connection")
            return 2
        if m["kind"] == mp.REPLY and m["code"] == mp.UPDATE and m["seq"] == 2:
            if m["status"]:
                print(f"refused: status {m['status']}")
                print(f"error: {m['error']}")
                return 3
            print("update started", flush=True)
        elif m["kind"] == mp.EVENT and m["code"] == mp.EV_UPDATE_PROGRESS:
            ev = {k: m[k] for k in ("activity", "downloaded", "total", "error", "complete")}
            print("progress " + json.dumps(ev), flush=True)
            if m["error"]:
                print(f"error: {m['error']}")
                return 1
            if m["complete"]:
                print("complete")
                return 0
    print(f"error: no final UpdateProgress within {secs} s")
    return 2


def main():
    if len(sys.argv) < 3:
        print(__doc__ if __doc__ else open(__file__).read().split("import")[0])
        return 2
    path, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    fn = {"call": cmd_call, "nosecrets": cmd_nosecrets, "fuzz": cmd_fuzz,
          "concurrent": cmd_concurrent, "slowreader": cmd_slowreader,
          "events": cmd_events, "expect": cmd_expect,
          "update-run": cmd_update_run}.get(cmd)
    if not fn:
        print(f"unknown command {cmd}", file=sys.stderr)
        return 2
    return fn(path, args)


if __name__ == "__main__":
    sys.exit(main())
