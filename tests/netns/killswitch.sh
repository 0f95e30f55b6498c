#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The kill switch of awg-tunnel (issue 8; windows-reference.md §4.4, §10.5) in four namespaces:
# client C, server S (plain tunnel, no kill switch), an "internet" host I behind S (S forwards)
# and a LAN host L on its own veth subnet, directly connected to C.
#   - KillSwitch = auto engages only in the Windows case (one peer, Table not off, a /0 of
#     either family): table inet awg_ks_<if> with flags owner, chains output/input/forward at
#     priority -10 ending in drop; /1 splits do not engage unless KillSwitch = on (FwMark
#     honoured); KillSwitch = off never does;
#   - while engaged: the tunnel works (its own UDP passes by fwmark), L is blocked (v4 and v6),
#     DNS goes only to the DNS = servers (not to I through the tunnel, not to L even with
#     AllowLAN) but loopback DNS (127.0.0.1, ::1) passes; AllowLAN = true lets L through;
#   - down leaves `nft list ruleset` (and the rest of C) exactly as before, a foreign table
#     untouched; someone else's `nft flush ruleset` spares the owner table;
#   - SIGKILL of awg-tunnel: the owner table goes with it (mode on), a persistent table
#     (awg_ksp_<if>, no owner) stays and keeps blocking until down, or until the next up
#     replaces it; a persistent table of another interface is never touched; SIGTERM of
#     `run` removes even a persistent table;
#   - fail-closed: the table is never lifted while awgd restarts (AWG_TUNNEL_RESTART), and a
#     persistent one stays when awg-tunnel gives up, until down.
set -euo pipefail
TEST=killswitch
. "$(dirname "$0")/lib.sh"
netns_init
: "${AWG_TUNNEL:=$NETNS_DIR/../../build/src/tunnel/awg-tunnel}"
AWG_TUNNEL=$(readlink -f "$AWG_TUNNEL")
[ -x "$AWG_TUNNEL" ] || fail "AWG_TUNNEL=$AWG_TUNNEL is not executable"
command -v nft >/dev/null || { echo "[$TEST] skipped: no nft"; exit 77; }
export AWGD
DNSPROBE=$NETNS_DIR/dnsprobe.py

NS_C=awgt-ks-c NS_S=awgt-ks-s NS_I=awgt-ks-i NS_L=awgt-ks-l
IFC=awgksc			# the client tunnel (every variant of its config has this name)
IFS_=awgkss			# the server tunnel
KS=awg_ks_$IFC KSP=awg_ksp_$IFC
# Three /26 of 192.168.95.0/24: C-S underlay, S-I, C-L; the tunnel is 10.95.0.0/24.
C_UNDER=192.168.95.1 S_UNDER=192.168.95.2
S_TO_I=192.168.95.65 I_ADDR=192.168.95.66
C_LAN=192.168.95.129 L_ADDR=192.168.95.130
C_LAN6=fd00:95:1::1 L_ADDR6=fd00:95:1::2
S_TUN=10.95.0.1 C_TUN=10.95.0.2

ns_add "$NS_C"
ns_add "$NS_S"
ns_add "$NS_I"
ns_add "$NS_L"
_CLEANUP_HOOKS+=("ip netns exec $NS_C $AWG_TUNNEL down $IFC >/dev/null 2>&1"
		 "ip netns exec $NS_S $AWG_TUNNEL down $IFS_ >/dev/null 2>&1"
		 "rm -rf /etc/netns/$NS_C")	# last: a down restores resolv.conf through it
ns_link "$NS_C" vc "$C_UNDER/26" "$NS_S" vs "$S_UNDER/26"
ns_link "$NS_S" vsi "$S_TO_I/26" "$NS_I" vi "$I_ADDR/26"
ns_link "$NS_C" vcl "$C_LAN/26" "$NS_L" vl "$L_ADDR/26"
ip -n "$NS_C" addr add "$C_LAN6/64" dev vcl nodad
ip -n "$NS_L" addr add "$L_ADDR6/64" dev vl nodad
ip -n "$NS_I" route add 10.95.0.0/24 via "$S_TO_I"
ip netns exec "$NS_S" sysctl -qw net.ipv4.ip_forward=1
# The client's own resolv.conf (ip netns exec bind-mounts it), so that DNS = stays in the test.
mkdir -p "/etc/netns/$NS_C"
printf 'nameserver 192.0.2.53\n' >"/etc/netns/$NS_C/resolv.conf"
export AWG_TUNNEL_DNS=file

CONF=$LOGDIR/conf
mkdir -m 700 "$CONF"
keypair SRV
keypair CLI
cat >"$CONF/$IFS_.conf" <<EOF
[Interface]
PrivateKey = $SRV_PRIV64
ListenPort = 51820
Address = $S_TUN/24

[Peer]
PublicKey = $CLI_PUB64
AllowedIPs = $C_TUN/32
EOF
chmod 600 "$CONF/$IFS_.conf"

# client ALLOWED_IPS [INTERFACE-LINES...]: writes $CONF/$IFC.conf, one peer (the server) with
# those allowed IPs, DNS = the server's tunnel address, and the extra [Interface] lines.
client() {
	local allowed=$1
	shift
	{
		printf '[Interface]\nPrivateKey = %s\nAddress = %s/32\nDNS = %s\n' \
			"$CLI_PRIV64" "$C_TUN" "$S_TUN"
		[ $# -eq 0 ] || printf '%s\n' "$@"
		printf '\n[Peer]\nPublicKey = %s\nEndpoint = %s:51820\nAllowedIPs = %s\n' \
			"$SRV_PUB64" "$S_UNDER" "$allowed"
	} >"$CONF/$IFC.conf"
	chmod 600 "$CONF/$IFC.conf"
}
tunnel() { ip netns exec "$1" "$AWG_TUNNEL" "${@:2}"; }
# up_client: brings the client up and waits for the handshake (a ping to the server's tunnel
# address, which the kill switch must let through).
up_client() {
	local out
	out=$(tunnel "$NS_C" up "$CONF/$IFC.conf" 2>&1) || fail "up failed: $out"
	wait_ping "$NS_C" "$S_TUN" 10
}
service_pid() { pgrep -f "awg-tunnel up $CONF/$IFC.conf" | head -1; }
ruleset() { ip netns exec "$NS_C" nft list ruleset 2>&1; }
# ks_tables: the kill-switch tables in C, one "table inet NAME" line each.
ks_tables() { ip netns exec "$NS_C" nft list tables | grep -E '^table inet awg_ksp?_' || true; }
has_table() { ip netns exec "$NS_C" nft list table inet "$1" >/dev/null 2>&1; }
table_flags() { ip netns exec "$NS_C" nft list table inet "$1" | sed -n 's/^[[:space:]]*flags //p'; }

snapshot() { ns_snapshot "$NS_C"; }
same_as_before() {
	local now
	now=$(ruleset)
	if [ "$now" != "$before_rules" ]; then
		diff <(printf '%s\n' "$before_rules") <(printf '%s\n' "$now") >&2 || true
		fail "$1: nft list ruleset differs from before (diff above)"
	fi
	now=$(snapshot)
	if [ "$now" != "$before" ]; then
		diff <(printf '%s\n' "$before") <(printf '%s\n' "$now") >&2 || true
		fail "$1: the client namespace differs from before (diff above)"
	fi
	ok "$1: ruleset and namespace identical to before"
}

# Reachability, each with a short timeout: a blocked packet is dropped in output (EPERM at
# once) or on the way back in (the timeout).
pings() { ip netns exec "$NS_C" ping -n -c 1 -W 1 "$1" >/dev/null 2>&1; }
dns() { ip netns exec "$NS_C" python3 "$DNSPROBE" query "$@" --timeout 1 2>/dev/null; }
# reaches WHAT CMD...: CMD must succeed (retried for up to 5 s); blocked WHAT CMD...: must fail.
reaches() {
	local what=$1
	shift
	wait_until 5 "$what" "$@"
	ok "reaches: $what"
}
blocked() {
	local what=$1
	shift
	! "$@" || fail "not blocked: $what"
	ok "blocked: $what"
}

# dns_server NS ADDR: a dnsprobe answering on ADDR:53 (UDP and TCP) in NS.
dns_server() {
	local out
	out="$LOGDIR/dns-$1-$2.out"
	ip netns exec "$1" timeout 300 python3 "$DNSPROBE" serve "$2" 53 </dev/null >"$out" 2>&1 &
	_PIDS+=("$!")
	wait_until 10 "dnsprobe on $2 in $1" grep -q '^listening' "$out"
}

# (nft 1.0.6 wants a newline or ';' after a chain's closing brace.)
FOREIGN='table inet awgt_foreign { chain c { type filter hook output priority 0; policy accept; }; }'

check "server up (plain, no kill switch); DNS servers on L, I, C's loopback and S's tunnel address"
tunnel "$NS_S" up "$CONF/$IFS_.conf"
assert_eq "$(ip netns exec "$NS_S" nft list tables)" "" "nft tables on the server"
dns_server "$NS_L" "$L_ADDR"
dns_server "$NS_I" "$I_ADDR"
dns_server "$NS_C" 127.0.0.1
dns_server "$NS_C" ::1
dns_server "$NS_S" "$S_TUN"
reaches "L ($L_ADDR) without a tunnel" pings "$L_ADDR"
reaches "L ($L_ADDR6) without a tunnel" pings "$L_ADDR6"
reaches "DNS to L without a tunnel" dns "$L_ADDR" 53
reaches "DNS to 127.0.0.1 without a tunnel" dns 127.0.0.1 53

check "1. snapshots before anything: empty ruleset, then with a foreign table"
# The snapshot must not catch the veths' IPv6 link-local addresses still tentative (DAD).
wait_until 10 "IPv6 DAD in C" bash -c "! ip -n $NS_C addr | grep -q tentative"
empty_rules=$(ruleset)
assert_eq "$empty_rules" "" "C's ruleset before anything"
ip netns exec "$NS_C" nft -f - <<<"$FOREIGN"
before_rules=$(ruleset)
foreign_rules=$(ip netns exec "$NS_C" nft list table inet awgt_foreign)
before=$(snapshot)
ok "foreign table awgt_foreign in place"

check "2. full tunnel, no KillSwitch key: auto engages"
client 0.0.0.0/0
up_client
assert_eq "$(ks_tables)" "table inet $KS" "kill-switch tables"
assert_eq "$(table_flags "$KS")" owner "flags of $KS"
tbl=$(ip netns exec "$NS_C" nft list table inet "$KS")
for ch in output input forward; do
	body=$(awk -v c="$ch" '$1 == "chain" && $2 == c {p = 1; next} p && /^\t}/ {exit} p' <<<"$tbl")
	[[ $body == *"type filter hook $ch priority filter - 10; policy accept;"* ]] ||
		fail "chain $ch missing or not a filter hook at -10 with policy accept:"$'\n'"$tbl"
	last=$(grep -v '^[[:space:]]*$' <<<"$body" | tail -1)
	[[ $last =~ (^|[[:space:]])drop$ ]] || fail "chain $ch does not end in drop (last rule: $last)"
done
ok "chains output, input, forward: filter hooks at priority -10, policy accept, ending in drop"
ping_check "$NS_C" "$I_ADDR" 3
blocked "ping to L ($L_ADDR), outside the tunnel" pings "$L_ADDR"
blocked "ping6 to L ($L_ADDR6), a v4-only /0 blocks IPv6 too" pings "$L_ADDR6"
reaches "DNS (UDP) to the tunnel DNS $S_TUN" dns "$S_TUN" 53
reaches "DNS (TCP) to the tunnel DNS $S_TUN" dns "$S_TUN" 53 --tcp
blocked "DNS (UDP) to L" dns "$L_ADDR" 53
blocked "DNS (TCP) to L" dns "$L_ADDR" 53 --tcp
blocked "DNS (UDP) to I through the tunnel, not a DNS = server" dns "$I_ADDR" 53
blocked "DNS (TCP) to I through the tunnel" dns "$I_ADDR" 53 --tcp
reaches "DNS (UDP) to 127.0.0.1" dns 127.0.0.1 53
reaches "DNS (TCP) to 127.0.0.1" dns 127.0.0.1 53 --tcp
reaches "DNS (UDP) to ::1" dns ::1 53
assert_eq "$(ip netns exec "$NS_C" nft list table inet awgt_foreign)" "$foreign_rules" \
	"the foreign table while engaged"
tunnel "$NS_C" down "$IFC"
same_as_before "down of the auto kill switch"
reaches "L again after down" pings "$L_ADDR"

check "3. AllowLAN = true: the LAN passes, DNS to the LAN still does not"
client 0.0.0.0/0 "AllowLAN = true"
up_client
assert_eq "$(ks_tables)" "table inet $KS" "kill-switch tables"
reaches "ping to L ($L_ADDR), directly connected" pings "$L_ADDR"
reaches "ping6 to L ($L_ADDR6), directly connected" pings "$L_ADDR6"
blocked "DNS (UDP) to L" dns "$L_ADDR" 53
blocked "DNS (TCP) to L" dns "$L_ADDR" 53 --tcp
ping_check "$NS_C" "$I_ADDR" 2
reaches "DNS (UDP) to the tunnel DNS" dns "$S_TUN" 53
tunnel "$NS_C" down "$IFC"
same_as_before "down with AllowLAN"

check "4. /1 splits: no kill switch unless KillSwitch = on (here with FwMark = 0x1234)"
client "0.0.0.0/1, 128.0.0.0/1"
up_client
assert_eq "$(ks_tables)" "" "kill-switch tables with /1 splits"
ping_check "$NS_C" "$I_ADDR" 2
reaches "ping to L without a kill switch" pings "$L_ADDR"
tunnel "$NS_C" down "$IFC"
same_as_before "down of the /1 tunnel"
client "0.0.0.0/1, 128.0.0.0/1" "KillSwitch = on" "FwMark = 0x1234"
up_client
assert_eq "$(ks_tables)" "table inet $KS" "kill-switch tables with KillSwitch = on"
assert_eq "$(table_flags "$KS")" owner "flags of $KS"
[[ $(ip netns exec "$NS_C" nft list table inet "$KS") == *"meta mark 0x00001234 accept"* ]] ||
	fail "no accept for meta mark 0x1234 in $KS"
ping_check "$NS_C" "$I_ADDR" 2
ok "the tunnel's UDP passes with its own fwmark 0x1234"
blocked "ping to L" pings "$L_ADDR"
blocked "DNS to L" dns "$L_ADDR" 53
tunnel "$NS_C" down "$IFC"
same_as_before "down of KillSwitch = on"

check "4b. the auto rule: ::/0 alone engages (both families); Table = off or two peers do not"
# up_only: up without waiting for traffic (these variants have no route to the server).
up_only() {
	local out
	out=$(tunnel "$NS_C" up "$CONF/$IFC.conf" 2>&1) || fail "up failed: $out"
}
client "$S_TUN/32, ::/0"
up_only
assert_eq "$(ks_tables)" "table inet $KS" "kill-switch tables with ::/0 only"
blocked "ping to L over IPv4 with only ::/0" pings "$L_ADDR"
tunnel "$NS_C" down "$IFC"
same_as_before "down of the ::/0 tunnel"
client 0.0.0.0/0 "Table = off"
up_only
assert_eq "$(ks_tables)" "" "kill-switch tables with Table = off"
tunnel "$NS_C" down "$IFC"
same_as_before "down of the Table = off tunnel"
client 0.0.0.0/0
keypair OTHER
printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.95.9.0/24\n' "$OTHER_PUB64" >>"$CONF/$IFC.conf"
up_only
assert_eq "$(ks_tables)" "" "kill-switch tables with two peers"
tunnel "$NS_C" down "$IFC"
same_as_before "down of the two-peer tunnel"

check "5. KillSwitch = off with a full tunnel: no table, nothing blocked"
client 0.0.0.0/0 "KillSwitch = off"
up_client
assert_eq "$(ks_tables)" "" "kill-switch tables with KillSwitch = off"
reaches "ping to L" pings "$L_ADDR"
reaches "DNS to L" dns "$L_ADDR" 53
reaches "DNS (TCP) to L" dns "$L_ADDR" 53 --tcp
reaches "DNS to I through the tunnel" dns "$I_ADDR" 53
reaches "DNS (TCP) to I through the tunnel" dns "$I_ADDR" 53 --tcp
tunnel "$NS_C" down "$IFC"
same_as_before "down of KillSwitch = off"

check "6. someone else's nft flush ruleset spares the owner table"
client 0.0.0.0/0
up_client
ip netns exec "$NS_C" nft flush ruleset
has_table awgt_foreign && fail "the foreign table survived nft flush ruleset"
assert_eq "$(ks_tables)" "table inet $KS" "kill-switch tables after nft flush ruleset"
assert_eq "$(table_flags "$KS")" owner "flags of $KS after the flush"
blocked "ping to L after the flush" pings "$L_ADDR"
blocked "DNS to L after the flush" dns "$L_ADDR" 53
ping_check "$NS_C" "$I_ADDR" 2
ip netns exec "$NS_C" nft -f - <<<"$FOREIGN"
tunnel "$NS_C" down "$IFC"
same_as_before "down after the flush (foreign table recreated)"

check "7. SIGKILL of awg-tunnel (mode on): the owner table goes at once"
client 0.0.0.0/0 "KillSwitch = on"
up_client
assert_eq "$(ks_tables)" "table inet $KS" "kill-switch tables"
tpid=$(service_pid)
[ -n "$tpid" ] || fail "no awg-tunnel service process"
kill -KILL "$tpid"
wait_until 2 "the owner table gone after SIGKILL" bash -c "! ip netns exec $NS_C nft list table inet $KS"
ok "no $KS after SIGKILL of $tpid"
reaches "ping to L once the owner died (a soft kill switch)" pings "$L_ADDR"
out=$(tunnel "$NS_C" down "$IFC" 2>&1) || fail "down after SIGKILL failed: $out"
same_as_before "down after SIGKILL (mode on)"

check "8. KillSwitch = persistent: survives SIGKILL until down"
client 0.0.0.0/0 "KillSwitch = persistent"
up_client
assert_eq "$(ks_tables)" "table inet $KSP" "kill-switch tables"
[[ $(table_flags "$KSP") != *owner* ]] || fail "$KSP has flags owner"
ok "$KSP without the owner flag"
blocked "ping to L" pings "$L_ADDR"
ping_check "$NS_C" "$I_ADDR" 2
tpid=$(service_pid)
[ -n "$tpid" ] || fail "no awg-tunnel service process"
kill -KILL "$tpid"
wait_until 2 "awg-tunnel $tpid gone" proc_gone "$tpid"
sleep 0.3
assert_eq "$(ks_tables)" "table inet $KSP" "kill-switch tables after SIGKILL"
blocked "ping to L after the crash" pings "$L_ADDR"
blocked "DNS to L after the crash" dns "$L_ADDR" 53
reaches "DNS to 127.0.0.1 after the crash" dns 127.0.0.1 53
out=$(tunnel "$NS_C" down "$IFC" 2>&1) || fail "down after SIGKILL failed: $out"
assert_eq "$(ks_tables)" "" "kill-switch tables after down"
same_as_before "down after SIGKILL (persistent)"

check "8b. persistent, crash, up again: the stale table is replaced; another interface's is not touched"
OTHER='table inet awg_ksp_awgother { chain output { type filter hook output priority -10; policy accept; }; }'
ip netns exec "$NS_C" nft -f - <<<"$OTHER"
other_rules=$(ip netns exec "$NS_C" nft list table inet awg_ksp_awgother)
up_client
tpid=$(service_pid)
[ -n "$tpid" ] || fail "no awg-tunnel service process"
kill -KILL "$tpid"
wait_until 2 "awg-tunnel $tpid gone" proc_gone "$tpid"
table_handle() { ip netns exec "$NS_C" nft -a list table inet "$KSP" | sed -n '1s/.*# handle \([0-9]*\).*/\1/p'; }
stale=$(table_handle)
[ -n "$stale" ] || fail "no stale $KSP after the crash"
out=$(tunnel "$NS_C" up "$CONF/$IFC.conf" 2>&1) || fail "up after SIGKILL failed: $out"
fresh=$(table_handle)
if [ -z "$fresh" ] || [ "$fresh" = "$stale" ]; then
	fail "$KSP not replaced: handle $stale before, [$fresh] after"
fi
ok "$KSP replaced (handle $stale -> $fresh)"
wait_ping "$NS_C" "$S_TUN" 10
assert_eq "$(ks_tables | grep -c -v awg_ksp_awgother)" 1 "kill-switch tables of $IFC after the new up"
assert_eq "$(ks_tables | grep -v awg_ksp_awgother)" "table inet $KSP" "the kill-switch table"
blocked "ping to L" pings "$L_ADDR"
ping_check "$NS_C" "$I_ADDR" 2
tunnel "$NS_C" down "$IFC"
assert_eq "$(ip netns exec "$NS_C" nft list table inet awg_ksp_awgother 2>&1)" "$other_rules" \
	"awg_ksp_awgother after up and down of $IFC"
ip netns exec "$NS_C" nft delete table inet awg_ksp_awgother
same_as_before "down after crash and re-up (persistent)"

check "9. run in the foreground (persistent): SIGTERM removes the table"
ip netns exec "$NS_C" "$AWG_TUNNEL" run "$CONF/$IFC.conf" </dev/null >"$LOGDIR/run.out" 2>&1 &
rpid=$!
_PIDS+=("$rpid")
wait_until 10 "$KSP under run" has_table "$KSP"
wait_ping "$NS_C" "$S_TUN" 10
blocked "ping to L under run" pings "$L_ADDR"
kill -TERM "$rpid"
st=0
wait "$rpid" || st=$?
assert_eq "$st" 0 "exit status of run after SIGTERM"
same_as_before "after SIGTERM of run"

check "10. fail-closed: the table stays while awgd restarts, and after it dies for good (persistent)"
client 0.0.0.0/0 "KillSwitch = persistent"
out=$(AWG_TUNNEL_RESTART=1 tunnel "$NS_C" up "$CONF/$IFC.conf" 2>&1) || fail "up failed: $out"
wait_ping "$NS_C" "$S_TUN" 10
table_handle() { ip netns exec "$NS_C" nft -a list table inet "$KSP" | sed -n '1s/.*# handle \([0-9]*\).*/\1/p'; }
h1=$(table_handle)
tpid=$(service_pid)
awgd=$(sed -n 's/^awgd=//p' "/run/awg-tunnel/$IFC.state")
[ -n "$awgd" ] && [ -n "$tpid" ] || fail "no awgd / awg-tunnel pid"
kill -KILL "$awgd"
sleep 0.3
assert_eq "$(table_handle)" "$h1" "the table while awgd restarts"
blocked "ping to L while awgd restarts" pings "$L_ADDR"
wait_until 15 "awgd restarted" bash -c "[ \"\$(sed -n 's/^awgd=//p' /run/awg-tunnel/$IFC.state 2>/dev/null)\" != $awgd ] && [ -n \"\$(sed -n 's/^awgd=//p' /run/awg-tunnel/$IFC.state 2>/dev/null)\" ]"
wait_ping "$NS_C" "$S_TUN" 15
assert_eq "$(table_handle)" "$h1" "the table after the restart (never lifted)"
awgd=$(sed -n 's/^awgd=//p' "/run/awg-tunnel/$IFC.state")
kill -KILL "$awgd"
wait_until 10 "awg-tunnel $tpid gives up" proc_gone "$tpid"
assert_eq "$(ks_tables)" "table inet $KSP" "kill-switch tables after awg-tunnel gave up"
blocked "ping to L after the tunnel failed for good" pings "$L_ADDR"
out=$(tunnel "$NS_C" down "$IFC" 2>&1) || fail "down after the failure: $out"
assert_eq "$(ks_tables)" "" "kill-switch tables after down"
same_as_before "down after awgd died for good (persistent)"

check "without the foreign table, C's ruleset is empty as at the start"
ip netns exec "$NS_C" nft delete table inet awgt_foreign
assert_eq "$(ruleset)" "$empty_rules" "C's ruleset at the end"
tunnel "$NS_S" down "$IFS_"
