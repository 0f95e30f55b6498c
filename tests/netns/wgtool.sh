#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's wg (show, showconf, set, setconf) against awgd started with --wg-socket.
set -euo pipefail
TEST=wgtool
. "$(dirname "$0")/lib.sh"
netns_init

AWGD_OPTS_A=--wg-socket
setup_pair 44
wga() { ip netns exec "$NS_A" wg "$@"; }
TAB=$'\t'

check "--wg-socket serves /var/run/wireguard/$IF_A.sock"
[ -S "/var/run/wireguard/$IF_A.sock" ] || fail "no /var/run/wireguard/$IF_A.sock"
wga show interfaces | tr ' ' '\n' | grep -qx "$IF_A" || fail "wg show interfaces does not list $IF_A"
ok "wg show interfaces lists $IF_A"
wait_ping "$NS_A" "$TUN_B" 10

check "wg show"
assert_eq "$(wga show "$IF_A" public-key)" "$KA_PUB64" "public-key"
assert_eq "$(wga show "$IF_A" private-key)" "$KA_PRIV64" "private-key"
assert_eq "$(wga show "$IF_A" listen-port)" "$PORT_A" "listen-port"
assert_eq "$(wga show "$IF_A" peers)" "$KB_PUB64" "peers"
assert_eq "$(wga show "$IF_A" allowed-ips)" "$KB_PUB64$TAB$TUN_B/32" "allowed-ips"
assert_eq "$(wga show "$IF_A" endpoints)" "$KB_PUB64$TAB$UNDER_B:$PORT_B" "endpoints"
assert_eq "$(wga show "$IF_A" persistent-keepalive)" "$KB_PUB64${TAB}off" "persistent-keepalive"
hs=$(wga show "$IF_A" latest-handshakes | cut -f2)
now=$(date +%s)
[ "$hs" -gt $((now - 60)) ] && [ "$hs" -le $((now + 1)) ] || fail "latest-handshakes $hs not recent (now $now)"
ok "latest-handshakes recent ($hs)"
read -r _ rx tx < <(wga show "$IF_A" transfer)
[ "$rx" -gt 0 ] && [ "$tx" -gt 0 ] || fail "transfer counters rx=$rx tx=$tx"
ok "transfer rx=$rx tx=$tx"
wga show "$IF_A" >/dev/null || fail "wg show $IF_A failed"

check "wg set: listen-port, persistent-keepalive, allowed-ips, endpoint"
NEWPORT=$((PORT_A + 100))
wga set "$IF_A" listen-port "$NEWPORT" peer "$KB_PUB64" persistent-keepalive 7 \
	allowed-ips "$TUN_B/32,10.99.0.0/16" endpoint "$UNDER_B:$PORT_B" || fail "wg set failed"
assert_eq "$(wga show "$IF_A" listen-port)" "$NEWPORT" "listen-port after wg set"
assert_eq "$(wga show "$IF_A" persistent-keepalive)" "$KB_PUB64${TAB}7" "persistent-keepalive after wg set"
assert_eq "$(wga show "$IF_A" allowed-ips)" "$KB_PUB64$TAB$TUN_B/32 10.99.0.0/16" "allowed-ips after wg set"
assert_eq "$(dev_field "$IF_A" listen_port)" "$NEWPORT" "UAPI listen_port"
assert_eq "$(peer_field "$IF_A" persistent_keepalive_interval)" "7" "UAPI persistent_keepalive_interval"
ip -n "$NS_A" -o link show "$IF_A" >/dev/null
ping_check "$NS_A" "$TUN_B" 3
assert_eq "$(peer_field "$IF_B" endpoint)" "$UNDER_A:$NEWPORT" "B follows A's new port"

check "wg showconf"
wga showconf "$IF_A" >"$LOGDIR/showconf"
norm() { sed 's/[[:space:]]*=[[:space:]]*/=/' "$1" | grep -v '^$'; }
cat >"$LOGDIR/expected" <<EOF
[Interface]
ListenPort = $NEWPORT
PrivateKey = $KA_PRIV64
[Peer]
PublicKey = $KB_PUB64
AllowedIPs = $TUN_B/32, 10.99.0.0/16
Endpoint = $UNDER_B:$PORT_B
PersistentKeepalive = 7
EOF
if ! diff <(norm "$LOGDIR/expected") <(norm "$LOGDIR/showconf") >&2; then
	fail "wg showconf differs from the expected configuration"
fi
ok "wg showconf matches"

check "wg setconf from a file replaces the peers"
keypair P1
keypair P2
cat >"$LOGDIR/new.conf" <<EOF
[Interface]
PrivateKey = $KA_PRIV64
ListenPort = $PORT_A

[Peer]
PublicKey = $P1_PUB64
AllowedIPs = 10.44.1.0/24
Endpoint = 192.168.44.2:4000
PersistentKeepalive = 0

[Peer]
PublicKey = $KB_PUB64
AllowedIPs = $TUN_B/32
Endpoint = $UNDER_B:$PORT_B

[Peer]
PublicKey = $P2_PUB64
AllowedIPs = 10.44.2.0/24, fd00:44::/64
PresharedKey = $(wg genpsk)
EOF
wga setconf "$IF_A" "$LOGDIR/new.conf" || fail "wg setconf failed"
assert_eq "$(wga show "$IF_A" peers | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "$P1_PUB64" "$KB_PUB64" "$P2_PUB64" | sort | tr '\n' ' ')" "peers after setconf"
assert_eq "$(wga show "$IF_A" listen-port)" "$PORT_A" "listen-port after setconf"
assert_eq "$(wga show "$IF_A" persistent-keepalive | grep "^$KB_PUB64" | cut -f2)" "off" \
	"B's keepalive reset by setconf"
assert_eq "$(wga show "$IF_A" allowed-ips | grep "^$P2_PUB64" | cut -f2)" "10.44.2.0/24 fd00:44::/64" \
	"P2 allowed-ips"
[ "$(wga show "$IF_A" preshared-keys | grep "^$P2_PUB64" | cut -f2)" != "(none)" ] ||
	fail "P2 has no preshared key"
ok "P2 has its preshared key"
assert_eq "$(wga show "$IF_A" endpoints | grep "^$P1_PUB64" | cut -f2)" "192.168.44.2:4000" "P1 endpoint"
wait_ping "$NS_A" "$TUN_B" 10
ping_check "$NS_A" "$TUN_B" 3

cat >"$LOGDIR/only-p1.conf" <<EOF
[Interface]
PrivateKey = $KA_PRIV64
ListenPort = $PORT_A
[Peer]
PublicKey = $P1_PUB64
AllowedIPs = 10.44.1.0/24
EOF
wga setconf "$IF_A" "$LOGDIR/only-p1.conf" || fail "wg setconf failed"
assert_eq "$(wga show "$IF_A" peers)" "$P1_PUB64" "peers after the second setconf"
uapi_get "$IF_A" | grep -q "^public_key=$KB_PUB\$" && fail "UAPI get still lists B"
ok "UAPI get agrees"
assert_eq "$(wga show "$IF_A" endpoints | cut -f2)" "(none)" "P1 endpoint cleared by setconf"

check "wg set peer remove / wg addconf"
wga set "$IF_A" peer "$P1_PUB64" remove
assert_eq "$(wga show "$IF_A" peers)" "" "peers after remove"
wga addconf "$IF_A" <(printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\nEndpoint = %s:%s\n' \
	"$KB_PUB64" "$TUN_B" "$UNDER_B" "$PORT_B") || fail "wg addconf failed"
assert_eq "$(wga show "$IF_A" peers)" "$KB_PUB64" "peers after addconf"
wait_ping "$NS_A" "$TUN_B" 10
ok "tunnel works again after addconf"
