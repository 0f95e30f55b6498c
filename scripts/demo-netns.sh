#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: two network namespaces joined by a veth pair, a server and a client tunnel
# brought up with `awg-tunnel up` from two awg-quick config files, on AmneziaWG 3.1 parameters
# (junk, I1 decoy, S1-S4 prefixes, ranged H1-H4, header protection, padding, trailers).
# Prints `awg show` of both ends, pings through the tunnel, moves 64 MiB through it with
# checksums, and takes both tunnels down again. Then the same client through the manager:
# awg-manager in the client namespace, `awgctl import/start/status/stop`. Needs root. Cleans
# up after itself.
# Usage: scripts/demo-netns.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(readlink -f "${1:-build}")
tunnel=$build/src/tunnel/awg-tunnel
awg=$build/src/tools/awg
manager=$build/src/manager/awg-manager
awgctl=$build/src/ctl/awgctl
export AWGD=$build/awgd
A=awg-demo-a B=awg-demo-b
CONF=$(mktemp -d /tmp/awg-demo.XXXXXX)

cleanup() {
	[ -n "${MGR:-}" ] && kill "$MGR" 2>/dev/null && wait "$MGR" 2>/dev/null
	ip netns exec $A "$tunnel" down "$CONF/awgdemo1.conf" >/dev/null 2>&1 || true
	ip netns exec $B "$tunnel" down "$CONF/awgdemo0.conf" >/dev/null 2>&1 || true
	for ns in $A $B; do
		ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null || true
	done
	sleep 0.2
	ip netns del $A 2>/dev/null || true
	ip netns del $B 2>/dev/null || true
	rm -rf "$CONF"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "demo-netns: needs root (network namespaces)"; exit 1; }
for f in "$tunnel" "$awg" "$AWGD" "$manager" "$awgctl"; do
	[ -x "$f" ] || { echo "demo-netns: $f not built"; exit 1; }
done
cleanup
mkdir -m 700 "$CONF"

echo "==> namespaces $A (192.168.77.1) and $B (192.168.77.2), joined by a veth pair"
ip netns add $A
ip netns add $B
ip link add veth-demo-a netns $A type veth peer name veth-demo-b netns $B
ip -n $A addr add 192.168.77.1/24 dev veth-demo-a
ip -n $B addr add 192.168.77.2/24 dev veth-demo-b
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A link set veth-demo-a up
ip -n $B link set veth-demo-b up

KS=$("$awg" genkey) KC=$("$awg" genkey)
PS=$(echo "$KS" | "$awg" pubkey) PC=$(echo "$KC" | "$awg" pubkey)
HP=$("$awg" genpsk)
AWG31="$(cat scripts/awg31-params.conf)
I1 = <r 2><b 0x858000010001000000000669636c6f756403636f6d0000010001c00c000100010000105a00044d583737>
HeaderProtectionKey = $HP
ContentPaddingAddition = 0-64
RandomTrailers = 1"

cat >"$CONF/awgdemo0.conf" <<EOF
# The server, in $B.
[Interface]
PrivateKey = $KS
ListenPort = 51821
Address = 10.77.0.2/24
$AWG31

[Peer]
PublicKey = $PC
AllowedIPs = 10.77.0.1/32
EOF
cat >"$CONF/awgdemo1.conf" <<EOF
# The client, in $A.
[Interface]
PrivateKey = $KC
Address = 10.77.0.1/24
$AWG31

[Peer]
PublicKey = $PS
Endpoint = 192.168.77.2:51821
AllowedIPs = 10.77.0.0/24
PersistentKeepalive = 25
EOF
chmod 600 "$CONF"/*.conf

echo "==> awg-tunnel up (server in $B, client in $A)"
ip netns exec $B "$tunnel" up "$CONF/awgdemo0.conf"
ip netns exec $A "$tunnel" up "$CONF/awgdemo1.conf"

echo "==> ping through the tunnel"
ip netns exec $A ping -c 5 -i 0.2 -W 2 10.77.0.2

echo "==> 64 MiB through the tunnel, checksummed on both ends"
python3 scripts/transfer.py $A $B 10.77.0.2 64

echo
echo "==> awg show (client, $A)"
WG_COLOR_MODE=never ip netns exec $A "$awg" show awgdemo1
echo
echo "==> awg show (server, $B)"
WG_COLOR_MODE=never ip netns exec $B "$awg" show awgdemo0
echo
echo "==> awg-tunnel down"
ip netns exec $A "$tunnel" down "$CONF/awgdemo1.conf"
ip netns exec $B "$tunnel" down "$CONF/awgdemo0.conf"
ip -n $A link show awgdemo1 >/dev/null 2>&1 && { echo "demo-netns: awgdemo1 still there"; exit 1; }

echo
echo "==> the client again, through awg-manager (in $A) and awgctl"
ip netns exec $B "$tunnel" up "$CONF/awgdemo0.conf"
export AWG_MANAGER_SOCKET=$CONF/run/manager.sock
ip netns exec $A "$manager" --foreground --state-dir "$CONF/state" --run-dir "$CONF/run" \
	--policy "$CONF/policy.conf" --tunnel-bin "$tunnel" 2>/dev/null &
MGR=$!
for _ in $(seq 50); do [ -S "$AWG_MANAGER_SOCKET" ] && break; sleep 0.1; done
"$awgctl" import "$CONF/awgdemo1.conf"
"$awgctl" start awgdemo1
for _ in $(seq 100); do "$awgctl" list | grep -q "awgdemo1 *started" && break; sleep 0.1; done
ip netns exec $A ping -c 3 -i 0.2 -W 2 10.77.0.2
"$awgctl" status awgdemo1
"$awgctl" stop awgdemo1
"$awgctl" wait awgdemo1
"$awgctl" log | tail -n 6
kill "$MGR"
wait "$MGR" || true
MGR=
ip netns exec $B "$tunnel" down "$CONF/awgdemo0.conf"
echo "demo-netns: OK"
