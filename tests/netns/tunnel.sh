#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# awg-tunnel in three namespaces: client C, server S, an "internet" host I behind S (S forwards).
#   - up/down of a full tunnel (AllowedIPs = 0.0.0.0/0) leaves C exactly as before (addresses,
#     routes of all tables, rules, v4 and v6, resolv.conf, nft ruleset); DNS servers and search
#     domains are in C's resolv.conf while up (or go to systemd-resolved, a stand-in here);
#   - C reaches I only through the tunnel (no cleartext ICMP on the underlay), the endpoint
#     stays reachable (no routing loop);
#   - the computed MTU counts S4; the scripts run in order with the tunnel-name environment; a
#     failing PreUp leaves nothing; a config error is reported as file:line:column and leaves
#     nothing; awgd runs without capabilities, with no_new_privs and seccomp;
#   - after SIGKILL of awg-tunnel, `down` removes what it left; Table = N, SaveConfig, an IPv6
#     endpoint, run mode with sd_notify and AWG_TUNNEL_RESTART;
#   - run as awg-manager starts it: config on --config-fd (a file, a pipe), "ok" on --ready-fd,
#     every stderr line (awg-tunnel's, awgd's, the scripts') in the ring log on --log-fd as
#     "[TUN] [NAME] ...", with no private key in the log file.
set -euo pipefail
TEST=tunnel
. "$(dirname "$0")/lib.sh"
netns_init
: "${AWG_TUNNEL:=$NETNS_DIR/../../build/src/tunnel/awg-tunnel}"
: "${AWG_CLI:=$NETNS_DIR/../../build/src/tools/awg}"
AWG_TUNNEL=$(readlink -f "$AWG_TUNNEL")
[ -x "$AWG_TUNNEL" ] || fail "AWG_TUNNEL=$AWG_TUNNEL is not executable"
export AWGD

NS_C=awgt-tun-c NS_S=awgt-tun-s NS_I=awgt-tun-i
ns_add "$NS_C"
ns_add "$NS_S"
ns_add "$NS_I"
ns_link "$NS_C" vc 192.168.90.1/24 "$NS_S" vs 192.168.90.2/24
ns_link "$NS_S" vsi 192.168.91.1/24 "$NS_I" vi 192.168.91.2/24
ip -n "$NS_I" route add 10.90.0.0/24 via 192.168.91.1
ip -n "$NS_C" addr add fd00:90::1/64 dev vc nodad
ip -n "$NS_S" addr add fd00:90::2/64 dev vs nodad
ip netns exec "$NS_S" sysctl -qw net.ipv4.ip_forward=1
# The client namespace's own resolv.conf (ip netns exec bind-mounts it over /etc/resolv.conf),
# so that DNS changes stay inside the test; the managed-file mode, never the host's resolvconf.
_CLEANUP_HOOKS+=("ip netns exec $NS_C $AWG_TUNNEL down awgtm >/dev/null 2>&1"
		 "ip netns exec $NS_C $AWG_TUNNEL down awgt6 >/dev/null 2>&1"
		 "ip netns exec $NS_C $AWG_TUNNEL down awgth >/dev/null 2>&1"
		 "ip netns exec $NS_C $AWG_TUNNEL down awgtt >/dev/null 2>&1"
		 "ip netns exec $NS_C $AWG_TUNNEL down awgtsv >/dev/null 2>&1"
		 "ip netns exec $NS_C $AWG_TUNNEL down awgtc >/dev/null 2>&1"
		 "ip netns exec $NS_S $AWG_TUNNEL down awgts >/dev/null 2>&1"
		 "rm -rf /etc/netns/$NS_C")	# last: a down restores resolv.conf through it
mkdir -p "/etc/netns/$NS_C"
printf 'nameserver 192.0.2.53\noptions edns0\n' >"/etc/netns/$NS_C/resolv.conf"
# ... and its own hosts file, where the server has a name (resolved without any DNS traffic).
printf '127.0.0.1 localhost\n192.168.90.2 awg-server.tunnel.test\n' >"/etc/netns/$NS_C/hosts"
export AWG_TUNNEL_DNS=file
CONF=$LOGDIR/conf
mkdir -m 700 "$CONF"
keypair SRV
keypair CLI
HP=$(wg genpsk)
AWG="$(cat "$NETNS_DIR/../../scripts/awg31-params.conf")
HeaderProtectionKey = $HP"

cat >"$CONF/awgts.conf" <<EOF
[Interface]
PrivateKey = $SRV_PRIV64
ListenPort = 51820
Address = 10.90.0.1/24
$AWG

[Peer]
PublicKey = $CLI_PUB64
AllowedIPs = 10.90.0.2/32
EOF
SCRIPTLOG=$LOGDIR/scripts.log
# The kill switch would block the underlay checks below; killswitch.sh tests it.
cat >"$CONF/awgtc.conf" <<EOF
[Interface]
PrivateKey = $CLI_PRIV64
KillSwitch = off
Address = 10.90.0.2/32
DNS = 10.90.0.1, corp.example, lab.example
PreUp = echo "preup %i \$AMNEZIAWG_TUNNEL_NAME \$WIREGUARD_TUNNEL_NAME" >> $SCRIPTLOG
PostUp = echo "postup %i" >> $SCRIPTLOG
PreDown = echo "predown %i" >> $SCRIPTLOG
PostDown = echo "postdown %i" >> $SCRIPTLOG
$AWG

[Peer]
PublicKey = $SRV_PUB64
Endpoint = 192.168.90.2:51820
AllowedIPs = 0.0.0.0/0
EOF
chmod 600 "$CONF"/*.conf

snapshot() { ns_snapshot "$1"; }
tunnel() { ip netns exec "$1" "$AWG_TUNNEL" "${@:2}"; }
# variant NAME SED-ARGS...: $CONF/NAME.conf, the client config edited by sed, mode 0600.
variant() {
	sed "${@:2}" "$CONF/awgtc.conf" >"$CONF/$1.conf"
	chmod 600 "$CONF/$1.conf"
}
# same_as_before NS WHAT: the namespace's snapshot equals $before (a diff on failure).
same_as_before() {
	local now
	now=$(snapshot "$1")
	if [ "$now" != "$before" ]; then
		diff <(printf '%s\n' "$before") <(printf '%s\n' "$now") >&2 || true
		fail "$2: the namespace differs from before (diff above)"
	fi
	ok "$2: identical to before"
}

check "a config error is reported as file:line:column and configures nothing"
# The snapshot must not catch the veth's IPv6 link-local address still tentative (DAD).
wait_until 10 "IPv6 DAD on the client's veth" bash -c "! ip -n $NS_C addr | grep -q tentative"
before=$(snapshot "$NS_C")
variant bad 's/^Address = /Adress = /'
out=$(tunnel "$NS_C" up "$CONF/bad.conf" 2>&1) && fail "up accepted an unknown key"
[[ $out == *"$CONF/bad.conf:4:1:"*Adress* ]] || fail "error not file:line:col quoting the key: $out"
ok "error: ${out%%$'\n'*}"
same_as_before "$NS_C" "client namespace after a failed up"

check "bad configs: each refused with a message naming the problem, nothing configured"
# bad_case NAME EXPECT SED-EXPR: up of a variant must fail with EXPECT in its message, leaving nothing.
bad_case() {
	local name=$1 expect=$2 edit=$3 out
	variant "$name" "$edit"
	out=$(tunnel "$NS_C" up "$CONF/$name.conf" 2>&1) && fail "$name: up accepted it"
	[[ $out == *$expect* ]] || fail "$name: expected '$expect' in: $out"
	ip -n "$NS_C" link show "$name" >/dev/null 2>&1 && fail "$name: an interface was left"
	ok "$name: ${out##*$'\n'}"
}
bad_case badsec "$CONF/badsec.conf:" '$a [Interface]\nPrivateKey = '"$CLI_PRIV64"
bad_case badkey "$CONF/badkey.conf:2:" "s|^PrivateKey = .*|PrivateKey = notakey|"
bad_case badcidr "$CONF/badcidr.conf:" "s|^AllowedIPs = .*|AllowedIPs = 10.0.0.0/33|"
bad_case badh "H" "s|^H2 = .*|H2 = 1020325000-1020325500|"
bad_case bads "12" "s|^S1 = .*|S1 = 4|"
bad_case badj "Jmin" "s|^Jmin = .*|Jmin = 90|"
WG_ENDPOINT_RESOLUTION_RETRIES=0 bad_case badhost "cannot resolve endpoint host 'no-such-host.invalid'" \
	"s|^Endpoint = .*|Endpoint = no-such-host.invalid:51820|"
same_as_before "$NS_C" "client namespace after the bad configs"

check "a failing PreUp aborts up and leaves nothing"
variant awgtf 's/^PreUp = .*/PreUp = exit 3/'
out=$(tunnel "$NS_C" up "$CONF/awgtf.conf" 2>&1) && fail "up succeeded with a failing PreUp"
[[ $out == *"PreUp script 1 failed (status 3): exit 3"* ]] || fail "no PreUp failure message: $out"
same_as_before "$NS_C" "client namespace after a failed PreUp"

check "server and client up (full tunnel on the client)"
tunnel "$NS_S" up "$CONF/awgts.conf"
tunnel "$NS_C" up "$CONF/awgtc.conf"
ip -n "$NS_C" link show awgtc >/dev/null || fail "no interface awgtc"
wait_ping "$NS_C" 10.90.0.1 10
ping_check "$NS_C" 10.90.0.1 3
ok "client reaches the server's tunnel address"

check "awgd under awg-tunnel: no capabilities, no_new_privs, seccomp"
apid=$(pgrep -f "awgd -f --user nobody awgtc" | head -1)
[ -n "$apid" ] || fail "no awgd for awgtc"
assert_eq "$(awk '/^CapEff:/{print $2}' "/proc/$apid/status")" 0000000000000000 "CapEff"
assert_eq "$(awk '/^NoNewPrivs:/{print $2}' "/proc/$apid/status")" 1 "NoNewPrivs"
assert_eq "$(awk '/^Seccomp:/{print $2}' "/proc/$apid/status")" 2 "Seccomp"
assert_eq "$(awk '/^Uid:/{print $2}' "/proc/$apid/status")" "$(id -u nobody)" "uid"

check "DNS servers and search domains in the client's resolver config"
rc=$(ip netns exec "$NS_C" cat /etc/resolv.conf)
[[ $rc == *"nameserver 10.90.0.1"* ]] || fail "no tunnel nameserver in: $rc"
[[ $rc == *"search corp.example lab.example"* ]] || fail "no search domains in: $rc"
[[ $rc != *192.0.2.53* ]] || fail "the original nameserver is still there: $rc"
ok "resolv.conf: $(printf '%s' "$rc" | tr '\n' '|')"

check "the awg-tunnel service keeps only the capabilities its teardown and restarts need"
tpid=$(pgrep -f "awg-tunnel up $CONF/awgtc.conf" | head -1)
# NET_ADMIN 12, NET_RAW 13, KILL 5, NET_BIND_SERVICE 10, SETUID 7, SETGID 6.
assert_eq "$(awk '/^CapEff:/{print $2}' "/proc/$tpid/status")" 00000000000034e0 "awg-tunnel CapEff"
assert_eq "$(awk '/^CapBnd:/{print $2}' "/proc/$tpid/status")" 00000000000034e0 "awg-tunnel CapBnd"

check "MTU counts S4: 1500 - 20 (IPv4) - 8 - 32 - 23 = 1417"
assert_eq "$(ip -n "$NS_C" -o link show awgtc | sed -n 's/.* mtu \([0-9]*\).*/\1/p')" 1417 "client MTU"

check "the internet host is reached only through the tunnel; the endpoint stays reachable"
ip -n "$NS_C" route get 192.168.91.2 | grep -q "dev awgtc" || fail "route to I: $(ip -n "$NS_C" route get 192.168.91.2)"
ip netns exec "$NS_C" tcpdump -i vc -n -U -w "$LOGDIR/under.pcap" 2>/dev/null &
tpid=$!
_PIDS+=("$tpid")
sleep 1
ping_check "$NS_C" 192.168.91.2 5
ping_check "$NS_C" 192.168.90.2 2
sleep 0.5
kill "$tpid"
wait "$tpid" 2>/dev/null || true
icmp_to_i=$(tcpdump -n -r "$LOGDIR/under.pcap" 'icmp and host 192.168.91.2' 2>/dev/null | wc -l)
udp=$(tcpdump -n -r "$LOGDIR/under.pcap" 'udp and host 192.168.90.2 and port 51820' 2>/dev/null | wc -l)
assert_eq "$icmp_to_i" 0 "cleartext ICMP to the internet host on the underlay"
assert_ge "$udp" 5 "tunnel datagrams on the underlay"

check "client down leaves the namespace as it was; the scripts ran in order"
tunnel "$NS_C" down awgtc
same_as_before "$NS_C" "client namespace after down"
assert_eq "$(tr '\n' '|' <"$SCRIPTLOG")" "preup awgtc awgtc awgtc|postup awgtc|predown awgtc|postdown awgtc|" "script log"
proc_gone "$apid" || fail "awgd still running after down"

check "an IPv6 endpoint: the tunnel works over IPv6, and the MTU counts the 40-byte header"
variant awgt6 -e 's|^Endpoint = .*|Endpoint = [fd00:90::2]:51820|' \
	-e 's|^AllowedIPs = .*|AllowedIPs = 10.90.0.1/32|' -e '/^DNS/d' -e '/^Pre/d' -e '/^Post/d'
tunnel "$NS_C" up "$CONF/awgt6.conf"
wait_ping "$NS_C" 10.90.0.1 10
ping_check "$NS_C" 10.90.0.1 3
assert_eq "$(ip -n "$NS_C" -o link show awgt6 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')" 1397 \
	"MTU over IPv6 (1500 - 40 - 8 - 32 - 23)"
ep=$(ip netns exec "$NS_S" "$AWG_CLI" show awgts endpoints)
[[ $ep == *"[fd00:90::1]:"* ]] || fail "the server does not see the client over IPv6: $ep"
ok "server sees the client at ${ep##*$'\t'}"
tunnel "$NS_C" down awgt6
same_as_before "$NS_C" "client namespace after the IPv6 tunnel"

check "an endpoint given as a host name is resolved"
variant awgth -e 's|^Endpoint = .*|Endpoint = awg-server.tunnel.test:51820|' \
	-e 's|^AllowedIPs = .*|AllowedIPs = 10.90.0.1/32|' -e '/^DNS/d' -e '/^Pre/d' -e '/^Post/d'
tunnel "$NS_C" up "$CONF/awgth.conf"
wait_ping "$NS_C" 10.90.0.1 10
ep=$(ip netns exec "$NS_C" "$AWG_CLI" show awgth endpoints)
[[ $ep == *"192.168.90.2:51820"* ]] || fail "endpoint not resolved to 192.168.90.2: $ep"
ok "awg-server.tunnel.test:51820 -> ${ep##*$'\t'}, traffic flows"
tunnel "$NS_C" down awgth
same_as_before "$NS_C" "client namespace after the host-name tunnel"

check "Table = 1234: the allowed IPs go to that table, no policy rules; a given MTU too large is warned"
variant awgtt -e 's|^\[Interface\]$|[Interface]\nTable = 1234\nMTU = 1480|' \
	-e '/^DNS/d' -e '/^Pre/d' -e '/^Post/d'
out=$(tunnel "$NS_C" up "$CONF/awgtt.conf" 2>&1)
[[ $out == *"MTU 1480 plus 83 bytes"*"is 1563, 63 more than the path MTU 1500"*"MTU 1417 would"* ]] ||
	fail "no MTU warning with the numbers: $out"
ok "warning: $(grep -o 'MTU 1480.*' <<<"$out")"
ip -n "$NS_C" route show table 1234 | grep -q "^default dev awgtt" ||
	fail "no default route in table 1234: $(ip -n "$NS_C" route show table 1234)"
ip -n "$NS_C" rule | grep -q 1234 && fail "policy rules with Table = 1234"
ip -n "$NS_C" route show | grep -q awgtt && fail "a route in main with Table = 1234"
ok "default route in table 1234 only, no rules"
tunnel "$NS_C" down awgtt
same_as_before "$NS_C" "client namespace after the Table = 1234 tunnel"

check "SaveConfig = true: down writes the running configuration back, awg-quick keys kept"
variant awgtsv -e 's|^\[Interface\]$|[Interface]\nSaveConfig = true|' -e '/^Pre/d' -e '/^Post/d'
tunnel "$NS_C" up "$CONF/awgtsv.conf"
ip netns exec "$NS_C" "$AWG_CLI" set awgtsv peer "$SRV_PUB64" persistent-keepalive 17
tunnel "$NS_C" down awgtsv
saved=$(cat "$CONF/awgtsv.conf")
for want in "PersistentKeepalive = 17" "Address = 10.90.0.2/32" "SaveConfig = true" \
	    "DNS = 10.90.0.1" "S4 = 23" "Endpoint = 192.168.90.2:51820" "PrivateKey = $CLI_PRIV64"; do
	[[ $saved == *"$want"* ]] || fail "saved config lacks '$want':"$'\n'"$saved"
done
ok "the saved config has the new keepalive and the file's Address, DNS, SaveConfig"
assert_eq "$(stat -c %a "$CONF/awgtsv.conf")" 600 "mode of the saved config"
same_as_before "$NS_C" "client namespace after the SaveConfig tunnel"

check "systemd-resolved over D-Bus (a stand-in on a private bus): link DNS, domains, ~. and revert"
BUS=$LOGDIR/bus
cat >"$LOGDIR/bus.conf" <<BUSCONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>unix:path=$BUS</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow user="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
BUSCONF
dbus-daemon --config-file="$LOGDIR/bus.conf" --nofork --nopidfile >"$LOGDIR/bus.out" 2>&1 &
_PIDS+=("$!")
wait_until 5 "private D-Bus socket" test -S "$BUS"
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$BUS
/usr/bin/python3 "$NETNS_DIR/fake-resolved.py" "$LOGDIR/resolved.log" >"$LOGDIR/fake.out" 2>&1 &
_PIDS+=("$!")
wait_until 10 "the resolve1 stand-in" grep -q ready "$LOGDIR/fake.out"
AWG_TUNNEL_DNS=resolved tunnel "$NS_C" up "$CONF/awgtc.conf"
idx=$(ip -n "$NS_C" -o link show awgtc | cut -d: -f1)
calls=$(cat "$LOGDIR/resolved.log")
[[ $calls == *'{"call": "SetLinkDNS", "ifindex": '$idx', "servers": [[2, "10.90.0.1"]]}'* ]] ||
	fail "SetLinkDNS not as expected: $calls"
[[ $calls == *'{"call": "SetLinkDomains", "ifindex": '$idx', "domains": [["corp.example", false], ["lab.example", false], [".", true]]}'* ]] ||
	fail "SetLinkDomains not as expected: $calls"
ok "resolved got the link DNS, the search domains and ~. for ifindex $idx"
[[ $(ip netns exec "$NS_C" cat /etc/resolv.conf) == *192.0.2.53* ]] || fail "resolv.conf was touched"
AWG_TUNNEL_DNS=resolved tunnel "$NS_C" down awgtc
grep -q '{"call": "RevertLink", "ifindex": '"$idx"'}' "$LOGDIR/resolved.log" ||
	fail "no RevertLink: $(cat "$LOGDIR/resolved.log")"
ok "RevertLink on down"
unset DBUS_SYSTEM_BUS_ADDRESS
same_as_before "$NS_C" "client namespace after the resolved tunnel"

check "run (foreground): readiness over NOTIFY_SOCKET; awgd dies -> restart once, then teardown and exit 1"
NOTIFY=$LOGDIR/notify.sock
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
print(s.recv(256).decode(), flush=True)
' "$NOTIFY" >"$LOGDIR/notify.out" 2>&1 &
npid=$!
_PIDS+=("$npid")
wait_until 5 "notify socket" test -S "$NOTIFY"
ip netns exec "$NS_C" env NOTIFY_SOCKET="$NOTIFY" AWG_TUNNEL_RESTART=1 "$AWG_TUNNEL" run "$CONF/awgtc.conf" \
	>"$LOGDIR/run.out" 2>&1 &
rpid=$!
_PIDS+=("$rpid")
wait "$npid" || fail "no readiness message: $(cat "$LOGDIR/notify.out")"
assert_eq "$(cat "$LOGDIR/notify.out")" "READY=1" "sd_notify message"
ping_check "$NS_C" 10.90.0.1 2
apid=$(pgrep -f "awgd -f --user nobody awgtc" | head -1)
kill -KILL "$apid"
wait_until 15 "the tunnel back with a new awgd" grep -q "up again" "$LOGDIR/run.out"
apid2=$(pgrep -f "awgd -f --user nobody awgtc" | head -1)
[ -n "$apid2" ] && [ "$apid2" != "$apid" ] || fail "no new awgd after the restart"
wait_ping "$NS_C" 10.90.0.1 10
ok "restarted once (awgd $apid -> $apid2), traffic flows again"
kill -KILL "$apid2"
st=0
wait "$rpid" || st=$?
assert_eq "$st" 1 "exit status of awg-tunnel run after awgd died"
grep -q "awgd exited" "$LOGDIR/run.out" || fail "no message about awgd: $(cat "$LOGDIR/run.out")"
same_as_before "$NS_C" "client namespace after awgd died"

check "run under a manager: config on fd 3 (file), ok on fd 4, ring log on fd 5, SIGTERM"
RING=$LOGDIR/log.bin
python3 -c '
import struct, sys
open(sys.argv[1], "wb").write(struct.pack("<II", 0x0BADBABE, 0) + bytes(2048 * 520))
' "$RING"
assert_eq "$(stat -c %s "$RING")" 1064968 "ring log size"
# ring_lines: the published entries, oldest first (slots at 8 + i*520: i64 time_ns, text[512]).
ring_lines() {
	python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
lines = []
for i in range(2048):
    o = 8 + i * 520
    t = struct.unpack_from("<q", b, o)[0]
    text = b[o + 8:o + 520].split(b"\0", 1)[0]
    if t and text:
        lines.append((t, text.decode("utf-8", "replace")))
for t, text in sorted(lines):
    print(text)
' "$RING"
}
# The key must not reach the log in any form: base64, hex, raw bytes.
no_key_in_ring() {
	python3 -c '
import base64, sys
b = open(sys.argv[1], "rb").read()
k = base64.b64decode(sys.argv[2])
for form in (sys.argv[2].encode(), k.hex().encode(), k.hex().upper().encode(), k):
    if form in b:
        sys.exit("the private key is in the ring log")
' "$RING" "$CLI_PRIV64" || fail "the private key is in the ring log file"
	ok "no private key in the ring log file (base64, hex, raw)"
}
# A script that prints the key, and SaveConfig, which a config from a descriptor cannot do.
variant awgtm -e 's|^AllowedIPs = .*|AllowedIPs = 10.90.0.1/32|' -e '/^DNS/d' -e '/^Pre/d' \
	-e '/^Post/d' -e 's|^\[Interface\]$|[Interface]\nSaveConfig = true\nPostUp = echo "script says '"$CLI_PRIV64"'"|'
cp "$CONF/awgtm.conf" "$LOGDIR/awgtm.orig"
READY=$LOGDIR/ready.fifo
mkfifo "$READY"
ip netns exec "$NS_C" env LOG_LEVEL=verbose "$AWG_TUNNEL" run --config-fd 3 --ready-fd 4 --log-fd 5 \
	awgtm 3<"$CONF/awgtm.conf" 4>"$READY" 5<>"$RING" </dev/null >"$LOGDIR/mgr.out" 2>&1 &
rpid=$!
_PIDS+=("$rpid")
exec 7<"$READY"
answer=
read -r -t 30 -u 7 answer || fail "no readiness line on fd 4: $(cat "$LOGDIR/mgr.out")"
assert_eq "$answer" ok "readiness on fd 4"
# Then EOF: awg-tunnel closed it, and nothing it started holds it.
st=0
read -r -t 5 -u 7 answer || st=$?
exec 7<&-
assert_eq "$st" 1 "read status after ok (1: EOF, >128: timeout)"
ip -n "$NS_C" link show awgtm >/dev/null || fail "no interface awgtm"
wait_ping "$NS_C" 10.90.0.1 10
ping_check "$NS_C" 10.90.0.1 3
apid=$(pgrep -f "awgd -f --user nobody awgtm" | head -1)
[ -n "$apid" ] || fail "no awgd for awgtm"
# Neither awgd nor anything else of the tunnel's holds the ring log, the config or the fifo.
held=$(ls -l "/proc/$apid/fd" "/proc/$rpid/fd" | grep -E "log.bin|ready.fifo|awgtm.conf" || true)
[ -z "$held" ] || fail "descriptors passed on or kept open: $held"
ok "config, readiness and log descriptors not inherited by awgd, closed in awg-tunnel"
kill -TERM "$rpid"
st=0
wait "$rpid" || st=$?
assert_eq "$st" 0 "exit status of awg-tunnel run after SIGTERM"
proc_gone "$apid" || fail "awgd still running after SIGTERM"
ip -n "$NS_C" link show awgtm >/dev/null 2>&1 && fail "interface awgtm left after SIGTERM"
same_as_before "$NS_C" "client namespace after the manager-style run"
cmp -s "$CONF/awgtm.conf" "$LOGDIR/awgtm.orig" || fail "the config file was written"
log=$(ring_lines)
printf '%s\n' "$log" >"$LOGDIR/ring.txt"
for want in "[TUN] [awgtm] awg-tunnel(awgtm): starting" \
	    "[TUN] [awgtm] awg-tunnel(awgtm): up: interface awgtm" \
	    "[TUN] [awgtm] awg-tunnel(awgtm): warning: SaveConfig = true is ignored" \
	    "[TUN] [awgtm] script says (key hidden)" \
	    "[TUN] [awgtm] [#] PostUp script 1 of 1" \
	    "[TUN] [awgtm] awg-tunnel(awgtm): down"; do
	[[ $log == *"$want"* ]] || fail "no '$want' in the ring log:"$'\n'"$log"
done
# Operators read this log: a script's text (which may hold secrets) never goes into it.
[[ $log != *'echo "script says'* ]] || fail "the script's text is in the ring log"
[ "$(printf '%s\n' "$log" | tail -1)" = "[TUN] [awgtm] awg-tunnel(awgtm): down" ] ||
	fail "the last ring log line is not the down line:"$'\n'"$log"
# awgd inherits the pipe: its verbose lines arrive as well, one entry per line.
nawgd=$(grep -c '^\[TUN\] \[awgtm\] .* awgd(awgtm): ' <<<"$log" || true)
assert_ge "$nawgd" 1 "awgd lines in the ring log"
other=$(grep -v '^\[TUN\] \[awgtm\] ' <<<"$log" || true)
[ -z "$other" ] || fail "ring log lines without the [TUN] [awgtm] prefix: $other"
ok "$(wc -l <<<"$log") lines, all '[TUN] [awgtm] ...', starting to down, $nawgd from awgd"
grep -q "awg-tunnel(awgtm): up: interface awgtm" "$LOGDIR/mgr.out" ||
	fail "stderr did not get the mirrored lines: $(cat "$LOGDIR/mgr.out")"
ok "the lines are mirrored to the original stderr"
no_key_in_ring

check "run under a manager: config on fd 3 (a pipe) with an error; --display-name; fd 4 closed without ok"
: >"$LOGDIR/ready2.out"
st=0
ip netns exec "$NS_C" "$AWG_TUNNEL" run --config-fd 3 --ready-fd 4 --log-fd 5 \
	--display-name "Büro VPN" awgtm 3< <(sed 's/^Address = /Adress = /' "$CONF/awgtm.conf") \
	4>"$LOGDIR/ready2.out" 5<>"$RING" >"$LOGDIR/mgr2.out" 2>&1 || st=$?
assert_eq "$st" 1 "exit status for a bad config on fd 3"
assert_eq "$(stat -c %s "$LOGDIR/ready2.out")" 0 "bytes on the readiness fd after a failure"
log=$(ring_lines)
[[ $log == *"[TUN] [Büro VPN] awg-tunnel(awgtm): config from fd 3:"*":1: "*Adress* ]] ||
	fail "no config error under the display name in the ring log:"$'\n'"$log"
ok "$(grep -o '\[TUN\] \[Büro VPN\].*Adress.*' <<<"$log" | head -1)"
ip -n "$NS_C" link show awgtm >/dev/null 2>&1 && fail "an interface was left"
same_as_before "$NS_C" "client namespace after the failed manager-style run"
no_key_in_ring

check "after SIGKILL of awg-tunnel, down removes what it left"
tunnel "$NS_C" up "$CONF/awgtc.conf"
tpid=$(pgrep -f "awg-tunnel up $CONF/awgtc.conf" | head -1)
[ -n "$tpid" ] || fail "no awg-tunnel process for awgtc"
kill -KILL "$tpid"
sleep 0.3
ip -n "$NS_C" rule | grep -q 51820 || fail "the rules should still be there after SIGKILL"
out=$(tunnel "$NS_C" down awgtc 2>&1) || fail "down after SIGKILL failed: $out"
same_as_before "$NS_C" "client namespace after crash cleanup"

check "after SIGKILL, the next up cleans up and comes up"
tunnel "$NS_C" up "$CONF/awgtc.conf"
tpid=$(pgrep -f "awg-tunnel up $CONF/awgtc.conf" | head -1)
kill -KILL "$tpid"
sleep 0.3
out=$(tunnel "$NS_C" up "$CONF/awgtc.conf" 2>&1) || fail "up after SIGKILL failed: $out"
[[ $out == *"cleaned up after an earlier awg-tunnel"* ]] || fail "no cleanup message: $out"
wait_ping "$NS_C" 10.90.0.1 10
tunnel "$NS_C" down awgtc
same_as_before "$NS_C" "client namespace after the second down"
[ ! -e /var/run/amneziawg/awgtc.sock ] || fail "down left awgd's UAPI socket file behind"
tunnel "$NS_S" down awgts
out=$(tunnel "$NS_S" down awgts 2>&1) && fail "down of a stopped tunnel succeeded"
[[ $out == *"'awgts' is not up"* ]] || fail "unexpected message: $out"
ok "down of a tunnel that is not up: $out"
