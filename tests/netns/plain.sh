#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# awgd <-> awgd with plain WireGuard parameters: ping and a 100 MiB TCP transfer with sha256.
set -euo pipefail
TEST=plain
. "$(dirname "$0")/lib.sh"
netns_init

log "setting up awgd <-> awgd (plain WireGuard)"
setup_pair 41

check "ping through the tunnel (A initiates)"
wait_ping "$NS_A" "$TUN_B" 10
ping_check "$NS_A" "$TUN_B" 10
ping_check "$NS_B" "$TUN_A" 5

check "handshake recorded on both sides"
[ "$(peer_field "$IF_A" last_handshake_time_sec)" != 0 ] || fail "A: no last_handshake_time"
[ "$(peer_field "$IF_B" last_handshake_time_sec)" != 0 ] || fail "B: no last_handshake_time"
assert_eq "$(peer_field "$IF_B" endpoint)" "$UNDER_A:$PORT_A" "B's endpoint for A (learned)"

check "100 MiB TCP transfer A -> B with sha256 comparison"
transfer "$NS_B" "$TUN_B" "$NS_A" 100
check "20 MiB TCP transfer B -> A"
transfer "$NS_A" "$TUN_A" "$NS_B" 20 5202

check "counters"
rx=$(peer_field "$IF_B" rx_bytes)
assert_ge "$rx" $((100 << 20)) "B rx_bytes"
{ kill -0 "$PID_A" && kill -0 "$PID_B"; } || fail "a daemon died"
