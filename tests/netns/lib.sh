# SPDX-License-Identifier: MIT
# Shared helpers for the netns integration tests (sourced, not run): namespaces, awgd
# daemons, UAPI, keys, assertions and cleanup.
#
# A script sets TEST (short name, used in namespace/interface/log names) and sources this file;
# it then calls netns_init, which checks for root (exit 77), finds $AWGD/$UAPI and installs
# the EXIT trap. Everything a test creates is registered here and removed by cleanup.

: "${TEST:?set TEST before sourcing lib.sh}"
NETNS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TRANSFER="$NETNS_DIR/transfer.py"
export NETNS_DIR

_PIDS=()		# daemons and helpers to kill
_NAMESPACES=()		# namespaces to delete
_SOCKETS=()		# socket files to remove
_LOGS=()		# daemon logs to show on failure
_CLEANUP_HOOKS=()	# extra commands run by cleanup

log() { printf '[%s] %s\n' "$TEST" "$*"; }
check() { printf '[%s] CHECK: %s\n' "$TEST" "$*"; }
ok() { printf '[%s]   ok: %s\n' "$TEST" "$*"; }
fail() {
	printf '[%s] FAIL: %s\n' "$TEST" "$*" >&2
	exit 1
}

netns_init() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "[$TEST] skipped: needs root"
		exit 77
	fi
	: "${AWGD:=$NETNS_DIR/../../build/awgd}"
	: "${UAPI:=$NETNS_DIR/uapi.py}"
	AWGD=$(readlink -f "$AWGD")
	[ -x "$AWGD" ] || { echo "[$TEST] AWGD=$AWGD is not executable" >&2; exit 1; }
	[ -f "$UAPI" ] || { echo "[$TEST] UAPI=$UAPI not found" >&2; exit 1; }
	LOGDIR=$(mktemp -d "/tmp/awgt-$TEST.XXXXXX")
	chmod 755 "$LOGDIR"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	T_START=$(date +%s)
}

# Kills one pid: TERM, up to 3 s grace, then KILL.
_kill_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? pid ns s f h
	set +e
	trap - EXIT
	for h in "${_CLEANUP_HOOKS[@]}"; do eval "$h" >/dev/null 2>&1; done
	for pid in "${_PIDS[@]}"; do _kill_pid "$pid"; done
	wait 2>/dev/null
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		for f in "${_LOGS[@]}"; do
			[ -s "$f" ] || continue
			echo "----- $(basename "$f") (last 60 lines) -----" >&2
			tail -n 60 "$f" >&2
		done
	fi
	for ns in "${_NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
	for s in "${_SOCKETS[@]}"; do rm -f "$s"; done
	if [ "$rc" -eq 0 ]; then
		rm -rf "$LOGDIR"
		echo "[$TEST] PASS ($(( $(date +%s) - T_START )) s)"
	elif [ "$rc" -ne 77 ]; then
		echo "[$TEST] FAILED (exit $rc); logs kept in $LOGDIR" >&2
	fi
	exit "$rc"
}

# wait_until TIMEOUT_S DESCRIPTION CMD...: polls CMD every 0.1 s; fails the test on timeout.
wait_until() {
	local timeout=$1 what=$2 deadline
	shift 2
	deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || fail "timed out after ${timeout}s waiting for: $what"
		sleep 0.1
	done
}

# ---- namespaces ----

# ns_add NAME: a fresh namespace with loopback up.
ns_add() {
	ip netns del "$1" 2>/dev/null || true
	ip netns add "$1"
	_NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}

# ns_link NS_A IF_A ADDR_A/LEN NS_B IF_B ADDR_B/LEN: a veth pair between two namespaces.
ns_link() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# find_bins: AWG_TUNNEL, AWG_MANAGER and AWGCTL from the environment (meson sets them) or the
# ./build tree, as absolute paths of executables; the test fails if one is missing.
find_bins() {
	local v rel p
	for v in AWG_TUNNEL:src/tunnel/awg-tunnel AWG_MANAGER:src/manager/awg-manager \
		 AWGCTL:src/ctl/awgctl; do
		rel=${v#*:}
		v=${v%%:*}
		p=$(readlink -f "${!v:-$NETNS_DIR/../../build/$rel}")
		[ -x "$p" ] || fail "$v=$p is not executable"
		printf -v "$v" '%s' "$p"
	done
}

# ns_snapshot NS: everything a tunnel's up may touch in NS (addresses, routes and rules of all
# tables, links, resolv.conf, the nftables ruleset), for an exact before/after compare.
ns_snapshot() {
	{
		ip -n "$1" -o addr
		ip -n "$1" route show table all
		ip -n "$1" -6 route show table all
		ip -n "$1" rule
		ip -n "$1" -6 rule
		ip -n "$1" -o link | sed 's/ link\/.*//'
		ip netns exec "$1" cat /etc/resolv.conf
		ip netns exec "$1" nft list ruleset
	} 2>&1
}

# ---- keys (UAPI wants hex, wg wants base64) ----

b64_to_hex() { python3 -c 'import base64,sys; print(base64.b64decode(sys.argv[1]).hex())' "$1"; }
hex_to_b64() { python3 -c 'import base64,sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$1"; }
rand_hex32() { python3 -c 'import os; print(os.urandom(32).hex())'; }

# keypair VAR: sets VAR_PRIV, VAR_PUB (hex) and VAR_PRIV64, VAR_PUB64 (base64).
keypair() {
	local priv64 pub64
	priv64=$(wg genkey)
	pub64=$(printf '%s\n' "$priv64" | wg pubkey)
	printf -v "${1}_PRIV64" '%s' "$priv64"
	printf -v "${1}_PUB64" '%s' "$pub64"
	printf -v "${1}_PRIV" '%s' "$(b64_to_hex "$priv64")"
	printf -v "${1}_PUB" '%s' "$(b64_to_hex "$pub64")"
}

# ---- awgd ----

sock_path() { echo "/var/run/amneziawg/$1.sock"; }

# start_awgd NS IFNAME [awgd options...]: runs `awgd -f` in NS, stderr to $LOGDIR/IFNAME.log,
# stdout to /dev/null (a daemon holding the test's stdout makes meson wait for it); waits for
# the socket. Sets AWGD_PID (and records it for cleanup).
start_awgd() {
	local ns=$1 ifn=$2 logf
	shift 2
	logf="$LOGDIR/$ifn.log"
	_LOGS+=("$logf")
	_SOCKETS+=("$(sock_path "$ifn")" "/var/run/wireguard/$ifn.sock")
	ip netns exec "$ns" env LOG_LEVEL=verbose "$AWGD" -f "$@" "$ifn" \
		</dev/null >/dev/null 2>>"$logf" &
	AWGD_PID=$!
	_PIDS+=("$AWGD_PID")
	wait_until 10 "awgd $ifn socket" test -S "$(sock_path "$ifn")"
	kill -0 "$AWGD_PID" 2>/dev/null || fail "awgd $ifn died at start"
}

# uapi_set SOCK_OR_IF: stdin = set lines; fails the test if the daemon answers errno != 0.
uapi_set() {
	local s=$1
	[ -S "$s" ] || s=$(sock_path "$1")
	python3 "$UAPI" "$s" set || fail "UAPI set on $s failed"
}

uapi_get() {
	local s=$1
	[ -S "$s" ] || s=$(sock_path "$1")
	python3 "$UAPI" "$s" get
}

# peer_field SOCK_OR_IF KEY: the value of KEY in the first peer section of `get`.
peer_field() {
	uapi_get "$1" | awk -F= -v k="$2" '/^public_key=/{p=1} p && $1==k {print substr($0, length(k)+2); exit}'
}

dev_field() {
	uapi_get "$1" | awk -F= -v k="$2" '/^public_key=/{exit} $1==k {print substr($0, length(k)+2); exit}'
}

# ---- standard awgd <-> awgd topology ----
#
# setup_pair N [awg device lines...]: namespaces $NS_A/$NS_B ("awgt-$TEST-a/b") joined by veth
# (192.168.N.1/2), awgd interfaces $IF_A/$IF_B (10.N.0.1/2), both configured with the given
# extra device lines, A with an endpoint for B. Sets KA_*/KB_*, PORT_A/PORT_B, PID_A/PID_B.
setup_pair() {
	local n=$1 extra
	shift
	extra=$(printf '%s\n' "$@")
	NS_A="awgt-$TEST-a"
	NS_B="awgt-$TEST-b"
	: "${IF_A:=awg${TEST:0:6}a}"
	: "${IF_B:=awg${TEST:0:6}b}"
	UNDER_A=192.168.$n.1
	UNDER_B=192.168.$n.2
	TUN_A=10.$n.0.1
	TUN_B=10.$n.0.2
	PORT_A=$((51000 + n))
	PORT_B=$((52000 + n))
	ns_add "$NS_A"
	ns_add "$NS_B"
	ns_link "$NS_A" veth-a "$UNDER_A/24" "$NS_B" veth-b "$UNDER_B/24"
	keypair KA
	keypair KB
	start_awgd "$NS_A" "$IF_A" ${AWGD_OPTS_A:-}
	PID_A=$AWGD_PID
	start_awgd "$NS_B" "$IF_B" ${AWGD_OPTS_B:-}
	PID_B=$AWGD_PID
	uapi_set "$IF_A" <<-EOF
		private_key=$KA_PRIV
		listen_port=$PORT_A
		$extra
		public_key=$KB_PUB
		endpoint=$UNDER_B:$PORT_B
		allowed_ip=$TUN_B/32
	EOF
	uapi_set "$IF_B" <<-EOF
		private_key=$KB_PRIV
		listen_port=$PORT_B
		$extra
		public_key=$KA_PUB
		allowed_ip=$TUN_A/32
	EOF
	ip -n "$NS_A" addr add "$TUN_A/24" dev "$IF_A"
	ip -n "$NS_B" addr add "$TUN_B/24" dev "$IF_B"
	ip -n "$NS_A" link set "$IF_A" up
	ip -n "$NS_B" link set "$IF_B" up
}

# ---- traffic ----

# ping_check NS DST COUNT [MAX_LOSS]: COUNT pings at 0.2 s; fails if more than MAX_LOSS lost.
ping_check() {
	local ns=$1 dst=$2 count=$3 maxloss=${4:-0} out recv
	out=$(ip netns exec "$ns" ping -n -c "$count" -i 0.2 -W 2 -w $((count + 10)) "$dst" 2>&1) || true
	recv=$(printf '%s\n' "$out" | sed -n 's/.* \([0-9]\+\) received.*/\1/p')
	recv=${recv:-0}
	if [ $((count - recv)) -gt "$maxloss" ]; then
		printf '%s\n' "$out" >&2
		fail "ping $dst from $ns: $recv/$count replies (at most $maxloss lost allowed)"
	fi
	ok "ping $dst from $ns: $recv/$count replies"
}

# wait_ping NS DST TIMEOUT: waits until one ping gets through (handshake done).
wait_ping() {
	wait_until "$3" "first ping $1 -> $2" ip netns exec "$1" ping -n -c 1 -W 1 "$2"
}

# transfer NS_SRV ADDR NS_CLI MB [PORT]: TCP transfer of MB MiB of pseudo-random data from
# NS_CLI to ADDR (a server in NS_SRV), compares sha256 on both sides. Sets XFER_MBPS.
# XFER_PACE=MBIT paces the sender.
transfer() {
	local srv_ns=$1 addr=$2 cli_ns=$3 mb=$4 port=${5:-5201} srv_out cli_out s_sum c_sum
	srv_out="$LOGDIR/xfer-srv.$port.out"
	cli_out="$LOGDIR/xfer-cli.$port.out"
	ip netns exec "$srv_ns" timeout 100 python3 "$TRANSFER" serve "$addr" "$port" \
		</dev/null >"$srv_out" 2>&1 &
	local spid=$!
	_PIDS+=("$spid")
	wait_until 10 "transfer server on $addr:$port" grep -q '^listening' "$srv_out"
	if ! ip netns exec "$cli_ns" timeout 90 python3 "$TRANSFER" send "$addr" "$port" "$mb" ${XFER_PACE:-} \
		</dev/null >"$cli_out" 2>&1; then
		cat "$cli_out" >&2
		kill "$spid" 2>/dev/null || true
		fail "transfer client ($mb MiB to $addr:$port) failed"
	fi
	wait "$spid" || { cat "$srv_out" >&2; fail "transfer server failed"; }
	s_sum=$(awk '/^sha256/{print $2, $3}' "$srv_out")
	c_sum=$(awk '/^sha256/{print $2, $3}' "$cli_out")
	XFER_MBPS=$(awk '/^rate/{print $2}' "$cli_out")
	[ -n "$c_sum" ] && [ "$s_sum" = "$c_sum" ] ||
		fail "transfer checksum mismatch: sent [$c_sum] received [$s_sum]"
	ok "transfer $mb MiB: sha256 match (${c_sum%% *} bytes), $XFER_MBPS Mbit/s"
}

# ---- assertions ----

assert_eq() { [ "$1" = "$2" ] || fail "$3: expected [$2], got [$1]"; ok "$3 = $2"; }
assert_le() { [ "$1" -le "$2" ] || fail "$3: $1 > $2"; ok "$3: $1 <= $2"; }
assert_ge() { [ "$1" -ge "$2" ] || fail "$3: $1 < $2"; ok "$3: $1 >= $2"; }

# ---- packet capture ----

# start_capture NS IFACE FILE [FILTER...]: tcpdump writing FILE; returns once it listens.
# Sets CAP_PID.
start_capture() {
	local ns=$1 ifc=$2 file=$3
	shift 3
	ip netns exec "$ns" timeout 110 tcpdump -i "$ifc" -U -n -s 2048 -Z root -w "$file" "$@" \
		</dev/null >/dev/null 2>"$file.log" &
	CAP_PID=$!
	_PIDS+=("$CAP_PID")
	wait_until 10 "tcpdump on $ifc" grep -q 'listening on' "$file.log"
}

# stop_capture PID: ends tcpdump cleanly (the pcap is complete afterwards).
stop_capture() {
	sleep 0.3
	kill -INT "$1" 2>/dev/null || true
	local i
	for i in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	_kill_pid "$1"
	wait "$1" 2>/dev/null || true
}

# teardown_pair: stops the two daemons of setup_pair (socket removal) and deletes its namespaces,
# so setup_pair can run again.
teardown_pair() {
	rm -f "$(sock_path "$IF_A")" "$(sock_path "$IF_B")"
	wait_until 5 "daemons exit after their sockets are removed" \
		bash -c "! kill -0 $PID_A 2>/dev/null && ! kill -0 $PID_B 2>/dev/null"
	ip netns del "$NS_A"
	ip netns del "$NS_B"
}

# proc_gone PID: true when PID has exited (a zombie counts as gone: a daemonised awgd is reaped
# by PID 1, which may take a while in a container).
proc_gone() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}
