#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Roaming: the client changes its underlay address, then its port, mid-stream; the server follows.
set -euo pipefail
TEST=roaming
. "$(dirname "$0")/lib.sh"
netns_init

setup_pair 50
NEW_A=192.168.50.3
NEWPORT=$((PORT_A + 7))
ip netns exec "$NS_A" sysctl -qw net.ipv4.conf.veth-a.promote_secondaries=1
wait_ping "$NS_A" "$TUN_B" 10
assert_eq "$(peer_field "$IF_B" endpoint)" "$UNDER_A:$PORT_A" "server's endpoint for the client before roaming"

check "client address change during a ping stream and a TCP transfer"
ip netns exec "$NS_A" ping -n -c 60 -i 0.1 -W 2 -w 30 "$TUN_B" >"$LOGDIR/ping.out" 2>&1 &
PING_PID=$!
_PIDS+=("$PING_PID")
# 40 MiB paced at 80 Mbit/s: about 4 s, so both changes happen mid-transfer.
( XFER_PACE=80 transfer "$NS_B" "$TUN_B" "$NS_A" 40 ) >"$LOGDIR/xfer.out" 2>&1 &
XFER_PID=$!
sleep 1.5
ip -n "$NS_A" addr add "$NEW_A/24" dev veth-a
ip -n "$NS_A" addr del "$UNDER_A/24" dev veth-a
ip -n "$NS_A" -4 -o addr show dev veth-a | grep -q "$NEW_A" || fail "address change failed"
log "client underlay address changed $UNDER_A -> $NEW_A"
wait_until 10 "server endpoint follows to $NEW_A" bash -c \
	"python3 '$UAPI' '$(sock_path "$IF_B")' get | grep -qx 'endpoint=$NEW_A:$PORT_A'"
ok "server's endpoint for the client is now $NEW_A:$PORT_A"

check "client port change (listen_port) mid-stream"
uapi_set "$IF_A" <<<"listen_port=$NEWPORT"
wait_until 10 "server endpoint follows to port $NEWPORT" bash -c \
	"python3 '$UAPI' '$(sock_path "$IF_B")' get | grep -qx 'endpoint=$NEW_A:$NEWPORT'"
ok "server's endpoint for the client is now $NEW_A:$NEWPORT"
kill -0 "$XFER_PID" 2>/dev/null || fail "the transfer ended before the port change (too fast?)"
wait "$PING_PID" || true
recv=$(sed -n 's/.* \([0-9]\+\) received.*/\1/p' "$LOGDIR/ping.out")
[ "${recv:-0}" -ge 58 ] || { cat "$LOGDIR/ping.out" >&2; fail "pings while roaming: ${recv:-0}/60 replies"; }
ok "pings while roaming: $recv/60 replies"
wait "$XFER_PID" || { cat "$LOGDIR/xfer.out" >&2; fail "transfer across the address change failed"; }
cat "$LOGDIR/xfer.out"

check "traffic continues after roaming, both directions"
ping_check "$NS_A" "$TUN_B" 5
ping_check "$NS_B" "$TUN_A" 5
transfer "$NS_A" "$TUN_A" "$NS_B" 20 5202
