#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cookie mechanism under a handshake flood: legit peer still connects, flooder gets cookies, RSS bounded.
set -euo pipefail
TEST=cookie
. "$(dirname "$0")/lib.sh"
netns_init

PPS=20000
SECS=12
RSS_LIMIT_KB=$((32 * 1024))
setup_pair 51 rekey_timeout=1
NS_C="awgt-$TEST-c"
ns_add "$NS_C"
ns_link "$NS_C" veth-c 192.168.52.1/24 "$NS_B" veth-bc 192.168.52.2/24

check "flooding B with $PPS initiations/s (valid mac1, garbage otherwise) for ${SECS}s"
ip netns exec "$NS_C" timeout $((SECS + 20)) python3 "$NETNS_DIR/flood.py" 192.168.52.2 "$PORT_B" \
	"$KB_PUB" "$PPS" "$SECS" $((PPS * SECS)) </dev/null >"$LOGDIR/flood.out" 2>&1 &
FLOOD_PID=$!
_PIDS+=("$FLOOD_PID")
sleep 2
maxrss=0
sample_rss() {
	local r
	r=$(awk '/^VmRSS:/{print $2}' "/proc/$PID_B/status")
	[ "$r" -le "$maxrss" ] || maxrss=$r
}
sample_rss
check "a legitimate peer's handshake completes during the flood"
t0=$(date +%s.%N)
wait_ping "$NS_A" "$TUN_B" 15
log "first ping through after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
kill -0 "$FLOOD_PID" 2>/dev/null || fail "the flood ended before the legitimate handshake completed"
ok "handshake done while the flood was running"
ping_check "$NS_A" "$TUN_B" 5 1
while kill -0 "$FLOOD_PID" 2>/dev/null; do
	sample_rss
	sleep 0.5
done
wait "$FLOOD_PID" || { cat "$LOGDIR/flood.out" >&2; fail "flooder failed"; }
read -r _ sent _ replies _ cookies _ secs <"$LOGDIR/flood.out"
log "flooder: sent $sent initiations in ${secs}s, got $replies replies, $cookies cookie replies"
check "the flooder received cookie replies"
assert_ge "$cookies" 1000 "cookie replies received by the flooder"
[ "$replies" -eq "$cookies" ] || fail "$((replies - cookies)) replies that are not cookie replies"
ok "all replies are cookie replies (no handshake responses to garbage)"
check "B's memory stayed bounded"
assert_le "$maxrss" "$RSS_LIMIT_KB" "max VmRSS of B's awgd (KiB)"
kill -0 "$PID_B" || fail "B's awgd died"

check "after the flood"
ping_check "$NS_A" "$TUN_B" 5
transfer "$NS_B" "$TUN_B" "$NS_A" 20
