#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Shortened ranged timers: rekeys under traffic without loss, and giving up after max attempts.
set -euo pipefail
TEST=timers
. "$(dirname "$0")/lib.sh"
netns_init

MAXHS=2
# keepalive_timeout=30 keeps the passive keepalive (which would start a rekey of its own) and the
# "no reply to data" handshake out of the give-up window below.
setup_pair 47 rekey_after_time=3-4 rekey_timeout=1 max_handshake_attempts=$MAXHS keepalive_timeout=30
assert_eq "$(dev_field "$IF_A" rekey_after_time)" "3-4" "rekey_after_time reads back"
assert_eq "$(dev_field "$IF_A" max_handshake_attempts)" "$MAXHS" "max_handshake_attempts reads back"

check "12 s of pings every 0.2 s with rekey_after_time=3-4: several handshakes, no loss"
ip netns exec "$NS_A" ping -n -c 60 -i 0.2 -W 2 -w 30 "$TUN_B" >"$LOGDIR/ping.out" 2>&1 &
PING_PID=$!
_PIDS+=("$PING_PID")
: >"$LOGDIR/hs"
for _ in $(seq 26); do
	uapi_get "$IF_A" | awk -F= '/^last_handshake_time_sec=/{s=$2} /^last_handshake_time_nsec=/{print s "." $2}' >>"$LOGDIR/hs"
	sleep 0.5
done
wait "$PING_PID" || true
recv=$(sed -n 's/.* \([0-9]\+\) received.*/\1/p' "$LOGDIR/ping.out")
[ "${recv:-0}" -ge 59 ] || { cat "$LOGDIR/ping.out" >&2; fail "ping under rekeying: ${recv:-0}/60 replies"; }
ok "ping under rekeying: $recv/60 replies"
nhs=$(grep -v '^0\.' "$LOGDIR/hs" | sort -u | wc -l)
assert_ge "$nhs" 3 "distinct last_handshake_time values seen over 13 s"
hsb=$(peer_field "$IF_B" last_handshake_time_sec)
[ "$hsb" != 0 ] || fail "B has no handshake"

check "peer gone: the initiator gives up after max_handshake_attempts=$MAXHS"
start_capture "$NS_A" veth-a "$LOGDIR/giveup.pcap" udp and dst host "$UNDER_B"
rm -f "$(sock_path "$IF_B")"
wait_until 5 "B's daemon exits" bash -c "! kill -0 $PID_B 2>/dev/null"
# Let the current session age past rekey_after_time, so the next packet starts a handshake.
sleep 4.5
t0=$(date +%s.%N)
ip netns exec "$NS_A" ping -n -c 1 -W 1 "$TUN_B" >/dev/null 2>&1 || true
sleep 9
stop_capture "$CAP_PID"
read -r n first last < <(python3 - "$LOGDIR/giveup.pcap" "$t0" <<-'EOF'
	import os, sys
	sys.path.insert(0, os.environ["NETNS_DIR"])
	import pcap
	t0 = float(sys.argv[2])
	ts = [t - t0 for (t, _, _, _, _, p) in pcap.udp_datagrams(sys.argv[1])
	      if len(p) == 148 and p[:4] == b"\x01\0\0\0"]
	print("initiations relative to the trigger:", " ".join("%+.2f" % t for t in ts), file=sys.stderr)
	if ts and ts[0] < -0.05:
	    print("unexpected initiation before the trigger", file=sys.stderr)
	    ts = []
	print(len(ts), "%.2f" % (ts[0] if ts else -1), "%.2f" % (ts[-1] if ts else -1))
	EOF
)
log "initiations after the trigger: $n (first at +${first}s, last at +${last}s)"
[ "$n" -ge $((MAXHS + 1)) ] && [ "$n" -le $((MAXHS + 2)) ] ||
	fail "$n initiations; expected $((MAXHS + 2)) (first + max_handshake_attempts+1 retries, as WireGuard)"
ok "$n initiations (WireGuard semantics: 1 + (max_handshake_attempts+1) retransmissions = $((MAXHS + 2)))"
awk -v l="$last" 'BEGIN { exit !(l < 6) }' || fail "last initiation at +${last}s, expected the give-up within 6 s"
ok "gave up: no initiation after +${last}s in a 9 s window"
