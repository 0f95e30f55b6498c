#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# awgd <-> Debian's wireguard-go: plain WireGuard both ways, and awgd with junk + I1-I5 only.
set -euo pipefail
TEST=interop
. "$(dirname "$0")/lib.sh"
# tcpdump on a veth sees a UDP GSO send as one packet before the kernel splits it; count
# datagrams as the wire has them by keeping awgd's sends unsegmented here.
export AWG_NO_UDP_OFFLOAD=1
netns_init
command -v wireguard-go >/dev/null || { echo "[$TEST] skipped: no wireguard-go"; exit 77; }

NS_A="awgt-$TEST-a"	# awgd
NS_B="awgt-$TEST-b"	# wireguard-go
ns_add "$NS_A"
ns_add "$NS_B"
ns_link "$NS_A" veth-a 192.168.43.1/24 "$NS_B" veth-b 192.168.43.2/24
PORT_A=51043
PORT_B=52043

# round R WHO_INITIATES [awgd device lines...]: fresh keys and daemons, tunnel 10.43.R.0/24.
round() {
	local r=$1 who=$2
	local ifa="awgwgo${r}a" ifb="wgwgo${r}b" ta="10.43.$r.1" tb="10.43.$r.2"
	local extra pid_a pid_b conf ep_a="" ep_b=""
	shift 2
	extra=$(printf '%s\n' "$@")
	keypair KA
	keypair KB
	start_awgd "$NS_A" "$ifa"
	pid_a=$AWGD_PID
	_LOGS+=("$LOGDIR/$ifb.log")
	_SOCKETS+=("/var/run/wireguard/$ifb.sock")
	ip netns exec "$NS_B" env LOG_LEVEL=verbose wireguard-go -f "$ifb" \
		</dev/null >/dev/null 2>>"$LOGDIR/$ifb.log" &
	pid_b=$!
	_PIDS+=("$pid_b")
	wait_until 10 "wireguard-go $ifb socket" test -S "/var/run/wireguard/$ifb.sock"

	if [ "$who" = awgd ]; then ep_a="endpoint=192.168.43.2:$PORT_B"; else ep_b="Endpoint = 192.168.43.1:$PORT_A"; fi
	uapi_set "$ifa" <<-EOF
		private_key=$KA_PRIV
		listen_port=$PORT_A
		$extra
		public_key=$KB_PUB
		$ep_a
		allowed_ip=$tb/32
	EOF
	conf="$LOGDIR/$ifb.conf"
	cat >"$conf" <<-EOF
		[Interface]
		PrivateKey = $KB_PRIV64
		ListenPort = $PORT_B

		[Peer]
		PublicKey = $KA_PUB64
		AllowedIPs = $ta/32
		$ep_b
	EOF
	ip netns exec "$NS_B" wg setconf "$ifb" "$conf" || fail "wg setconf $ifb"
	ip -n "$NS_A" addr add "$ta/24" dev "$ifa"
	ip -n "$NS_B" addr add "$tb/24" dev "$ifb"
	ip -n "$NS_A" link set "$ifa" up
	ip -n "$NS_B" link set "$ifb" up

	[ -z "${CAP:-}" ] || start_capture "$NS_A" veth-a "$LOGDIR/round$r.pcap" udp
	if [ "$who" = awgd ]; then
		wait_ping "$NS_A" "$tb" 10
		ping_check "$NS_A" "$tb" 5
		ping_check "$NS_B" "$ta" 3
	else
		wait_ping "$NS_B" "$ta" 10
		ping_check "$NS_B" "$ta" 5
		ping_check "$NS_A" "$tb" 3
		assert_eq "$(peer_field "$ifa" endpoint)" "192.168.43.2:$PORT_B" "awgd learned wireguard-go's endpoint"
	fi
	[ "$(ip netns exec "$NS_B" wg show "$ifb" latest-handshakes | awk '{print $2}')" != 0 ] ||
		fail "wireguard-go reports no handshake"
	if [ -n "${CAP:-}" ]; then
		stop_capture "$CAP_PID"
		check_decoys "$LOGDIR/round$r.pcap" "$CAP"
	fi
	transfer "$NS_B" "$tb" "$NS_A" 20 5201
	transfer "$NS_A" "$ta" "$NS_B" 10 5202
	# End this round: removing the socket stops awgd; wireguard-go gets SIGTERM.
	rm -f "$(sock_path "$ifa")"
	_kill_pid "$pid_b"
	wait_until 5 "awgd $ifa exits after its socket is removed" bash -c "! kill -0 $pid_a"
	wait_until 5 "interfaces gone" bash -c "! ip -n $NS_A link show $ifa && ! ip -n $NS_B link show $ifb"
}

# check_decoys PCAP N: the first initiation awgd sent was preceded by exactly N decoys.
check_decoys() {
	local n
	n=$(python3 - "$1" "$PORT_A" <<-'EOF'
		import os, sys
		sys.path.insert(0, os.environ["NETNS_DIR"])
		import pcap
		d = [p for (_, _, sp, _, _, p) in pcap.udp_datagrams(sys.argv[1]) if sp == int(sys.argv[2])]
		for i, p in enumerate(d):
		    if len(p) == 148 and p[:4] == b"\x01\0\0\0":
		        print(i)
		        break
		else:
		    print(-1)
	EOF
	)
	assert_eq "$n" "$2" "datagrams awgd sent before its first initiation (I-packets + junk)"
}

check "plain WireGuard, awgd initiates"
round 1 awgd
check "plain WireGuard, wireguard-go initiates"
round 2 wggo
check "awgd with jc/jmin/jmax and I1-I5 (decoys dropped by the vanilla peer), awgd initiates"
CAP=10 round 3 awgd jc=5 jmin=40 jmax=90 \
	"i1=<r 2><b 0x858000010001000000000669636c6f756403636f6d0000010001c00c000100010000105a00044d583737>" \
	"i2=<b 0x16030102><r 40><t>" "i3=<rc 12><rd 6>" "i4=<r 100>" "i5=<b 0xdeadbeef><t><r 7>"
