#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The awg tool (src/tools) against awgd: byte-for-byte equal to Debian's wg on a plain WireGuard
# interface, AWG keys through setconf/addconf/syncconf/set, key commands and error reporting.
set -euo pipefail
TEST=awgcli
. "$(dirname "$0")/lib.sh"
netns_init
: "${AWG:=$NETNS_DIR/../../build/src/tools/awg}"
AWG=$(readlink -f "$AWG")
[ -x "$AWG" ] || { echo "[$TEST] AWG=$AWG is not executable" >&2; exit 1; }
command -v wg >/dev/null || { echo "[$TEST] skipped: needs Debian's wg"; exit 77; }

AWGD_OPTS_A=--wg-socket
setup_pair 46
export WG_COLOR_MODE=never
awga() { ip netns exec "$NS_A" "$AWG" "$@"; }
wga() { ip netns exec "$NS_A" wg "$@"; }
TAB=$'\t'
wait_ping "$NS_A" "$TUN_B" 10
ping_check "$NS_A" "$TUN_B" 3

check "more peers through wg set (preshared key, IPv6 endpoint, keepalive, no endpoint)"
keypair P2
keypair P3
(umask 077; wg genpsk >"$LOGDIR/psk")
wga set "$IF_A" fwmark 0x1234 \
	peer "$P2_PUB64" preshared-key "$LOGDIR/psk" endpoint "[fd00::1]:1234" \
	allowed-ips 10.77.0.0/16,fd77::/64 \
	peer "$P3_PUB64" persistent-keepalive 25 allowed-ips 10.78.0.1/32 || fail "wg set failed"
ok "configured"

# same_as_wg ARGS...: awg ARGS and wg ARGS print the same bytes (retried: counters and
# "N seconds ago" may tick between the two reads).
same_as_wg() {
	local i
	for i in 1 2 3 4 5; do
		awga "$@" >"$LOGDIR/awg.out" || fail "awg $* failed"
		wga "$@" >"$LOGDIR/wg.out" || fail "wg $* failed"
		cmp -s "$LOGDIR/awg.out" "$LOGDIR/wg.out" && { ok "awg $* = wg $*"; return 0; }
		sleep 0.3
	done
	diff "$LOGDIR/wg.out" "$LOGDIR/awg.out" >&2 || true
	fail "awg $* differs from wg $*"
}

check "awg show / showconf / dump / single fields equal wg's on a plain interface"
same_as_wg show "$IF_A"
same_as_wg showconf "$IF_A"
same_as_wg show "$IF_A" dump
for f in public-key private-key listen-port fwmark peers preshared-keys endpoints allowed-ips \
	latest-handshakes transfer persistent-keepalive; do
	same_as_wg show "$IF_A" "$f"
done
awga show "$IF_A" | grep -q "^  transfer: .* received, .* sent$" || fail "no transfer line"
awga show "$IF_A" | grep -q "^  latest handshake: .* ago$\|^  latest handshake: Now$" ||
	fail "no latest handshake line"
ok "show has latest handshake and transfer lines"
awga show interfaces | tr ' ' '\n' | grep -qx "$IF_A" || fail "awg show interfaces lacks $IF_A"
ok "awg show interfaces lists $IF_A"
awga show all dump | grep -q "^$IF_A$TAB$KA_PRIV64$TAB" || fail "awg show all dump lacks $IF_A"
ok "awg show all dump prefixes the interface"
WG_COLOR_MODE=always awga show "$IF_A" | grep -q $'\x1b\\[' || fail "no colour with WG_COLOR_MODE=always"
awga show "$IF_A" | grep -q $'\x1b' && fail "colour with WG_COLOR_MODE=never"
ok "WG_COLOR_MODE honoured"

check "awg set on the plain interface, read back by wg"
awga set "$IF_A" listen-port $((PORT_A + 1)) peer "$P3_PUB64" remove \
	peer "$P2_PUB64" allowed-ips "10.79.0.0/24, fd79::/64" persistent-keepalive off ||
	fail "awg set failed"
assert_eq "$(wga show "$IF_A" listen-port)" "$((PORT_A + 1))" "listen-port after awg set"
assert_eq "$(wga show "$IF_A" peers | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "$KB_PUB64" "$P2_PUB64" | sort | tr '\n' ' ')" "P3 removed by awg set"
assert_eq "$(wga show "$IF_A" allowed-ips | grep "^$P2_PUB64" | cut -f2)" "10.79.0.0/24 fd79::/64" \
	"P2 allowed-ips replaced"
same_as_wg showconf "$IF_A"

check "genkey | pubkey round trip against wg pubkey"
for i in 1 2 3; do
	k=$("$AWG" genkey)
	assert_eq "$(printf '%s\n' "$k" | "$AWG" pubkey)" "$(printf '%s\n' "$k" | wg pubkey)" "pubkey $i"
done
psk=$("$AWG" genpsk)
[ ${#psk} -eq 44 ] || fail "genpsk length ${#psk}"
ok "genpsk gives a 44-character key"

check "AWG 3.1 keys through setconf on a second awgd"
IF_C=awgclic
start_awgd "$NS_A" "$IF_C"
awgc() { ip netns exec "$NS_A" "$AWG" "$@"; }
keypair KC
keypair Q1
keypair Q2
HPK64=$(wg genpsk)
I1='<r 2><b 0x858000010001000000000669636c6f756403636f6d0000010001c00c000100010000105a00044d583737><rc 8><rd 4><t>'
cat >"$LOGDIR/awg.conf" <<CONF
[Interface]
PrivateKey = $KC_PRIV64
ListenPort = 53046
$(cat "$NETNS_DIR/../../scripts/awg31-params.conf")
I1 = $I1
I2 = <b 0x1603010200><r 32><t>
HeaderProtectionKey = $HPK64
ContentPaddingAddition = 0-64
RandomTrailers = on

[Peer]
PublicKey = $Q1_PUB64
AllowedIPs = 10.81.0.0/24
Endpoint = 192.168.46.9:4001
PersistentKeepalive = 21

[Peer]
PublicKey = $Q2_PUB64
AllowedIPs = 10.82.0.0/24
CONF
awgc setconf "$IF_C" "$LOGDIR/awg.conf" || fail "awg setconf failed"
awgc showconf "$IF_C" >"$LOGDIR/c.conf"
for line in "Jc = 4" "Jmin = 40" "Jmax = 70" "S1 = 15" "S2 = 18" "S3 = 20" "S4 = 23" \
	"H1 = 1020325451-1020335451" "H4 = 2528465083-2528475083" "I1 = $I1" \
	"I2 = <b 0x1603010200><r 32><t>" "HeaderProtectionKey = $HPK64" \
	"ContentPaddingAddition = 0-64" "RandomTrailers = on" "PrivateKey = $KC_PRIV64" \
	"PersistentKeepalive = 21" "Endpoint = 192.168.46.9:4001"; do
	grep -qxF "$line" "$LOGDIR/c.conf" || { cat "$LOGDIR/c.conf" >&2; fail "showconf lacks [$line]"; }
done
ok "showconf shows every AWG key"
assert_eq "$(dev_field "$IF_C" h2)" "3288052141-3288062141" "UAPI h2"
assert_eq "$(dev_field "$IF_C" header_protection_key)" "$(b64_to_hex "$HPK64")" "UAPI header_protection_key"
awgc show "$IF_C" | grep -qx "  jc: 4" || fail "awg show lacks jc"
awgc show "$IF_C" | grep -qx "  h3: 1766607858-1766617858" || fail "awg show lacks h3"
awgc show "$IF_C" | grep -qx "  header protection key: (hidden)" || fail "awg show shows the HP key"
ok "awg show lists the AWG keys"
awgc setconf "$IF_C" "$LOGDIR/c.conf" || fail "setconf of showconf output failed"
awgc showconf "$IF_C" | cmp -s - "$LOGDIR/c.conf" || fail "showconf | setconf does not round-trip"
ok "showconf output round-trips through setconf"

check "awg set changes AWG keys"
(umask 077; wg genpsk >"$LOGDIR/hpk2")
awgc set "$IF_C" jc 5 s4 30 h1 100-200 random-trailers off header-protection-key "$LOGDIR/hpk2" ||
	fail "awg set AWG keys failed"
assert_eq "$(dev_field "$IF_C" jc)" "5" "jc after set"
assert_eq "$(dev_field "$IF_C" s4)" "30" "s4 after set"
assert_eq "$(dev_field "$IF_C" h1)" "100-200" "h1 after set"
assert_eq "$(dev_field "$IF_C" random_trailers)" "0" "random_trailers after set"
assert_eq "$(dev_field "$IF_C" header_protection_key)" "$(b64_to_hex "$(cat "$LOGDIR/hpk2")")" \
	"header_protection_key after set"

check "syncconf removes absent peers and keeps the rest"
cat >"$LOGDIR/sync.conf" <<CONF
[Interface]
PrivateKey = $KC_PRIV64
ListenPort = 53046
Jc = 6
[Peer]
PublicKey = $Q1_PUB64
AllowedIPs = 10.91.0.0/24, 10.92.0.0/24
CONF
awgc syncconf "$IF_C" "$LOGDIR/sync.conf" || fail "awg syncconf failed"
assert_eq "$(awgc show "$IF_C" peers)" "$Q1_PUB64" "peers after syncconf"
assert_eq "$(awgc show "$IF_C" allowed-ips | cut -f2)" "10.91.0.0/24 10.92.0.0/24" "Q1 allowed-ips replaced"
assert_eq "$(awgc show "$IF_C" endpoints | cut -f2)" "192.168.46.9:4001" "Q1 endpoint kept by syncconf"
assert_eq "$(awgc show "$IF_C" persistent-keepalive | cut -f2)" "21" "Q1 keepalive kept by syncconf"
assert_eq "$(dev_field "$IF_C" jc)" "6" "jc after syncconf"
assert_eq "$(dev_field "$IF_C" s4)" "30" "s4 untouched by syncconf"

check "addconf adds a peer without removing others"
printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.93.0.0/24\nEndpoint = [fd00::5]:51820\n' "$Q2_PUB64" \
	>"$LOGDIR/add.conf"
awgc addconf "$IF_C" "$LOGDIR/add.conf" || fail "awg addconf failed"
assert_eq "$(awgc show "$IF_C" peers | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "$Q1_PUB64" "$Q2_PUB64" | sort | tr '\n' ' ')" "peers after addconf"
assert_eq "$(awgc show "$IF_C" endpoints | grep "^$Q2_PUB64" | cut -f2)" "[fd00::5]:51820" "Q2 endpoint"

check "awg set peer remove"
awgc set "$IF_C" peer "$Q1_PUB64" remove || fail "awg set remove failed"
assert_eq "$(awgc show "$IF_C" peers)" "$Q2_PUB64" "peers after remove"

check "errors exit non-zero and quote the input"
# expect_err DESCRIPTION PATTERN CMD...: CMD fails and its stderr contains PATTERN.
expect_err() {
	local what=$1 pat=$2
	shift 2
	if "$@" >"$LOGDIR/err.out" 2>"$LOGDIR/err.txt"; then
		fail "$what: exit status 0"
	fi
	grep -qF -- "$pat" "$LOGDIR/err.txt" || { cat "$LOGDIR/err.txt" >&2; fail "$what: no [$pat]"; }
	ok "$what: $(head -n1 "$LOGDIR/err.txt")"
}
expect_err "bad peer key" "\`notakey='" awgc set "$IF_C" peer notakey=
expect_err "bad CIDR" "\`10.1.2.3/33'" awgc set "$IF_C" peer "$Q2_PUB64" allowed-ips 10.1.2.3/33
expect_err "bad jc" "\`70000'" awgc set "$IF_C" jc 70000
expect_err "unknown argument" "frobnicate" awgc set "$IF_C" frobnicate 1
printf '[Interface]\nListenPort = 1\nBogusKey = 3\n' >"$LOGDIR/bad.conf"
expect_err "bad config line" "bad.conf:3:" awgc setconf "$IF_C" "$LOGDIR/bad.conf"
grep -qF "BogusKey" "$LOGDIR/err.txt" || fail "config error does not quote the key"
printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.0/99\n' "$Q1_PUB64" >"$LOGDIR/bad2.conf"
expect_err "bad config CIDR" "bad2.conf:3:" awgc addconf "$IF_C" "$LOGDIR/bad2.conf"
expect_err "missing interface" "No such device" "$AWG" show awgnosuch0
expect_err "bad pubkey input" "Key is not the correct length" sh -c "echo bad | '$AWG' pubkey"
expect_err "rejected by the daemon" "Unable to modify interface" awgc set "$IF_C" h2 100-150
assert_eq "$(awgc show "$IF_C" peers)" "$Q2_PUB64" "failed commands changed nothing"
{ kill -0 "$PID_A" && kill -0 "$PID_B"; } || fail "a daemon died"
