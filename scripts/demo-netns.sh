#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: two network namespaces, an awgd in each, joined by an AmneziaWG 3.1 tunnel
# (junk, I1 decoy, S1-S4 prefixes, ranged H1-H4, header protection, padding, trailers);
# prints the status of both ends, pings through the tunnel and moves 64 MiB through it.
# Needs root. Cleans up after itself. Usage: scripts/demo-netns.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
awgd=$build/awgd
uapi=tests/netns/uapi.py
A=awg-demo-a B=awg-demo-b IFA=awgdemo0 IFB=awgdemo1
SOCK=/var/run/amneziawg

cleanup() {
	for ns in $A $B; do
		ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null || true
	done
	sleep 0.2
	ip netns del $A 2>/dev/null || true
	ip netns del $B 2>/dev/null || true
	rm -f $SOCK/$IFA.sock $SOCK/$IFB.sock
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "demo-netns: needs root (network namespaces)"; exit 1; }
[ -x "$awgd" ] || { echo "demo-netns: $awgd not built"; exit 1; }
cleanup

hexkey() { python3 -c 'import base64,sys; print(base64.b64decode(sys.argv[1]).hex())' "$1"; }
wait_sock() {
	for _ in $(seq 50); do [ -S "$1" ] && return 0; sleep 0.1; done
	echo "demo-netns: $1 did not appear"; exit 1
}

echo "==> namespaces $A (192.168.77.1) and $B (192.168.77.2), joined by a veth pair"
ip netns add $A
ip netns add $B
ip link add veth-demo-a netns $A type veth peer name veth-demo-b netns $B
ip -n $A addr add 192.168.77.1/24 dev veth-demo-a
ip -n $B addr add 192.168.77.2/24 dev veth-demo-b
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A link set veth-demo-a up
ip -n $B link set veth-demo-b up

echo "==> starting awgd in each namespace"
ip netns exec $A "$awgd" -f $IFA >/dev/null 2>/tmp/$IFA.log &
ip netns exec $B "$awgd" -f $IFB >/dev/null 2>/tmp/$IFB.log &
wait_sock $SOCK/$IFA.sock
wait_sock $SOCK/$IFB.sock

KA=$(python3 -c 'import os,base64; print(base64.b64encode(os.urandom(32)).decode())')
KB=$(python3 -c 'import os,base64; print(base64.b64encode(os.urandom(32)).decode())')
PA=$(echo "$KA" | wg pubkey)
PB=$(echo "$KB" | wg pubkey)
HP=$(python3 -c 'import os; print(os.urandom(32).hex())')
awg_params() {
	cat <<P
jc=4
jmin=40
jmax=70
s1=15
s2=18
s3=20
s4=23
h1=1020325451-1020335451
h2=3288052141-3288062141
h3=1766607858-1766617858
h4=2528465083-2528475083
i1=<r 2><b 0x858000010001000000000669636c6f756403636f6d0000010001c00c000100010000105a00044d583737>
header_protection_key=$HP
content_padding_addition=0-64
random_trailers=1
P
}

echo "==> configuring both ends over UAPI (AmneziaWG 3.1 parameters)"
{ echo "private_key=$(hexkey "$KA")"; echo "listen_port=51820"; awg_params
  echo "public_key=$(hexkey "$PB")"; echo "endpoint=192.168.77.2:51821"
  echo "allowed_ip=10.77.0.2/32"; } | python3 $uapi $SOCK/$IFA.sock set
{ echo "private_key=$(hexkey "$KB")"; echo "listen_port=51821"; awg_params
  echo "public_key=$(hexkey "$PA")"; echo "allowed_ip=10.77.0.1/32"; } |
	python3 $uapi $SOCK/$IFB.sock set
ip -n $A addr add 10.77.0.1/24 dev $IFA
ip -n $B addr add 10.77.0.2/24 dev $IFB
ip -n $A link set $IFA mtu 1400 up
ip -n $B link set $IFB mtu 1400 up

echo "==> ping through the tunnel"
ip netns exec $A ping -c 5 -i 0.2 -W 2 10.77.0.2

echo "==> 64 MiB through the tunnel, checksummed on both ends"
python3 scripts/transfer.py $A $B 10.77.0.2 64

echo
python3 scripts/show.py $SOCK/$IFA.sock $IFA
echo
python3 scripts/show.py $SOCK/$IFB.sock $IFB
echo
echo "demo-netns: OK"
