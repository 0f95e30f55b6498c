#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Throughput benchmark (not a test): awgd against Debian's wireguard-go and, when
# AWG_REF_ENGINE names an amneziawg-go binary, amneziawg-go. Each engine gets its own pair of
# network namespaces joined by a veth; every address lives inside them. Prints a markdown table:
# iperf3 TCP 1 and 4 streams (median of BENCH_RUNS runs of BENCH_SECONDS s), ping RTT, engine
# RSS (idle, peak = VmHWM, after load) and engine CPU per Gbit during the 1-stream runs.
# BENCH_PAD=1 adds the rows awg+pad (content_padding_addition=0-64) and awg+trail
# (random_trailers=1) for the AWG engines: per-packet random sizes against UDP GSO batching.
# BENCH_PERF=1 profiles the sending awgd (perf record -e cpu-clock -g) during one extra 1-stream
# AWG run and writes a folded-stack file, a top-30 symbol table and an SVG to bench/out/.
# Needs root, iperf3, ping, wg, wireguard-go, python3 (and perf for BENCH_PERF). See
# bench/README.md.
#
#   ns <eng>1 (sender, iperf3 client)          ns <eng>2 (receiver, iperf3 server)
#     tunnel 10.241.0.1/24 --- engine ---------- engine --- tunnel 10.241.0.2/24
#     veth 192.168.241.1/24 ==================== veth 192.168.241.2/24
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

secs=${BENCH_SECONDS:-10}
runs=${BENCH_RUNS:-3}
pings=${BENCH_PINGS:-20}
awgd=${AWGD:-}
ref=${AWG_REF_ENGINE:-}
pad=${BENCH_PAD:-0}
# With BENCH_PAD=1 also a 1-stream run at this TCP MSS: sub-MTU packets, which padding varies.
mss=${BENCH_MSS:-1000}
perf=${BENCH_PERF:-0}
perf_cg=${BENCH_PERF_CALLGRAPH:-fp}	# perf --call-graph mode: fp (= -g) or dwarf
outdir=$root/bench/out
uapi="python3 $root/tests/netns/uapi.py"
port=51820
tag=b$$				# keeps names unique: interfaces, namespaces, sockets
hz=$(getconf CLK_TCK)

die() { echo "throughput.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
for t in iperf3 ping wg wireguard-go python3 ip timeout; do
	command -v "$t" >/dev/null || die "$t not found"
done
if [ -z "$awgd" ]; then
	awgd=$root/build-bench/awgd
	if [ ! -x "$awgd" ]; then
		[ -f build-bench/build.ninja ] ||
			meson setup build-bench --buildtype=release >/dev/null || die "meson setup failed"
	fi
	ninja -C build-bench awgd >/dev/null || die "cannot build awgd"
fi
[ -x "$awgd" ] || die "no awgd at $awgd"
[ -z "$ref" ] || [ -x "$ref" ] || die "AWG_REF_ENGINE=$ref is not executable"
if [ "$perf" = 1 ]; then
	command -v perf >/dev/null || die "BENCH_PERF=1 needs perf"
	mkdir -p "$outdir" || die "cannot create $outdir"
fi

# Everything this run created, for cleanup.
namespaces=()
pids=()
sockets=()
workdir=$(mktemp -d /tmp/awg-bench.XXXXXX)

cleanup() {
	local p n s
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null || kill -9 "$p" 2>/dev/null
	done
	for n in "${namespaces[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	for s in "${sockets[@]}"; do
		rm -f "$s"
	done
	rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A watchdog: the whole run is bounded even if a tool hangs past its own timeout.
awg_sets=1
[ "$pad" = 1 ] && awg_sets=3
rows=$((2 + awg_sets))
[ -n "$ref" ] && rows=$((rows + 1 + awg_sets))
limit=$((rows * (runs * (2 + pad) * (secs + 25) + pings + 90) + 60))
[ "$perf" = 1 ] && limit=$((limit + secs + 120))
(
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	sleep "$limit" &
	sp=$!
	wait $sp && echo "throughput.sh: watchdog after ${limit}s" >&2 && kill -TERM $$
) &
watchdog=$!
pids+=("$watchdog")

b64hex() { python3 -c 'import base64,sys; print(base64.b64decode(sys.argv[1]).hex())' "$1"; }

# Median of the numbers on stdin ("n/a" when there are none).
median() {
	python3 -c '
import statistics, sys
v = [float(x) for x in sys.stdin.read().split()]
print("%.6g" % statistics.median(v) if v else "n/a")'
}

# utime + stime of pid in seconds (all threads).
cpu_secs() {
	awk -v hz="$hz" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null ||
		echo 0
}

# A /proc/PID/status field (VmRSS, VmHWM) in MiB.
mem_mib() {
	awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null ||
		echo "?"
}

wait_for() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# setup_pair CODE: the namespaces and the veth of one engine.
setup_pair() {
	local n1=${tag}$1-1 n2=${tag}$1-2
	ip netns add "$n1" && namespaces+=("$n1") || die "ip netns add $n1"
	ip netns add "$n2" && namespaces+=("$n2") || die "ip netns add $n2"
	ip -n "$n1" link set lo up
	ip -n "$n2" link set lo up
	ip -n "$n1" link add v1 type veth peer name v2 netns "$n2" || die "veth"
	ip -n "$n1" addr add 192.168.241.1/24 dev v1
	ip -n "$n2" addr add 192.168.241.2/24 dev v2
	ip -n "$n1" link set v1 up
	ip -n "$n2" link set v2 up
}

# start_engine ENGINE NS IFNAME: sets eng_pid and eng_sock.
start_engine() {
	local eng=$1 ns=$2 ifname=$3 sock
	case $eng in
	awgd)
		sock=/var/run/amneziawg/$ifname.sock
		ip netns exec "$ns" "$awgd" -f "$ifname" >>"$workdir/$ifname.log" 2>&1 &
		;;
	wireguard-go)
		sock=/var/run/wireguard/$ifname.sock
		ip netns exec "$ns" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error \
			wireguard-go -f "$ifname" >>"$workdir/$ifname.log" 2>&1 &
		;;
	amneziawg-go)
		sock=/var/run/amneziawg/$ifname.sock
		ip netns exec "$ns" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error \
			"$ref" -f "$ifname" >>"$workdir/$ifname.log" 2>&1 &
		;;
	esac
	eng_pid=$!
	eng_sock=$sock
	pids+=("$eng_pid")
	sockets+=("$eng_sock")
}

# The spec §7.4 example set (scripts/awg31-params.conf) as UAPI keys: "Jc = 4" -> "jc=4".
awg31_uapi() {
	sed -e '/^#/d' -e 's/ = /=/' -e 's/^\(.\)/\L\1/' "$root/scripts/awg31-params.conf"
}

awg_lines() {
	cat <<-EOF
	$(awg31_uapi)
	header_protection_key=$(b64hex Xwxsi7X0f2osHS6aC3xNPi8aC5yNfm9aSzwtHg+ai3w=)
	EOF
}

# configure ENGINE NS IFNAME SOCK SIDE PARAMS MTU
configure() {
	local eng=$1 ns=$2 ifname=$3 sock=$4 side=$5 params=$6 mtu=$7 other=$((3 - $5))
	local priv=$workdir/key$side pub
	pub=$(wg pubkey <"$workdir/key$other")
	if [ "$eng" = wireguard-go ]; then
		ip netns exec "$ns" wg set "$ifname" private-key "$priv" listen-port $port \
			peer "$pub" endpoint 192.168.241.$other:$port allowed-ips 10.241.0.$other/32 ||
			return 1
	else
		{
			echo "private_key=$(b64hex "$(cat "$priv")")"
			echo "listen_port=$port"
			case $params in
			awg) awg_lines ;;
			awg+pad) awg_lines; echo "content_padding_addition=0-64" ;;
			awg+trail) awg_lines; echo "random_trailers=1" ;;
			esac
			echo "public_key=$(b64hex "$pub")"
			echo "endpoint=192.168.241.$other:$port"
			echo "replace_allowed_ips=true"
			echo "allowed_ip=10.241.0.$other/32"
		} | $uapi "$sock" set || return 1
	fi
	ip -n "$ns" addr add 10.241.0.$side/24 dev "$ifname" &&
		ip -n "$ns" link set "$ifname" mtu "$mtu" up
}

# iperf_run NS1 STREAMS PIDS...: prints "Mbit/s CPU-s/Gbit" of one run (n/a on failure).
# iperf_args: extra iperf3 client options.
iperf_args=()
iperf_run() {
	local ns=$1 streams=$2 c0 c1 p json
	shift 2
	c0=$(for p in "$@"; do cpu_secs "$p"; done | awk '{ t += $1 } END { print t + 0 }')
	json=$(ip netns exec "$ns" timeout $((secs + 20)) iperf3 -c 10.241.0.2 -t "$secs" \
		-P "$streams" "${iperf_args[@]}" -J 2>/dev/null)
	c1=$(for p in "$@"; do cpu_secs "$p"; done | awk '{ t += $1 } END { print t + 0 }')
	python3 -c '
import json, sys
try:
	s = json.loads(sys.argv[1])["end"]["sum_received"]
	gbit = s["bytes"] * 8 / 1e9
	print("%.1f %.3f" % (s["bits_per_second"] / 1e6, (float(sys.argv[3]) - float(sys.argv[2])) / gbit))
except Exception:
	print("n/a n/a")' "$json" "$c0" "$c1"
}

# bench_row ENGINE CODE PARAMS: one table row on stdout.
bench_row() {
	local eng=$1 code=$2 params=$3 mtu=1420 n1=${tag}$2-1 n2=${tag}$2-2
	local sfx if1 if2 pid1 pid2 s1 s2 i srv
	local idle1 idle2 anon1 anon2 peak1 peak2 after1 after2 rtt one four cpu r out small smallcol
	case $params in
	awg) sfx=a ;;
	awg+pad) sfx=p ;;
	awg+trail) sfx=t ;;
	*) sfx=${params:0:1} ;;
	esac
	if1=${tag}$2${sfx}1 if2=${tag}$2${sfx}2
	[ "$params" != plain ] && mtu=1400
	start_engine "$eng" "$n1" "$if1"
	pid1=$eng_pid s1=$eng_sock
	start_engine "$eng" "$n2" "$if2"
	pid2=$eng_pid s2=$eng_sock
	if ! wait_for "$s1" || ! wait_for "$s2" ||
	   ! configure "$eng" "$n1" "$if1" "$s1" 1 "$params" $mtu ||
	   ! configure "$eng" "$n2" "$if2" "$s2" 2 "$params" $mtu; then
		echo "| $eng | $params | setup failed | | | | | | | |"
		cat "$workdir"/*.log >&2 2>/dev/null
		stop_engines "$pid1" "$pid2" "$s1" "$s2"
		return
	fi
	for ((i = 0; i < 20; i++)); do
		ip netns exec "$n1" ping -c 1 -W 1 -q 10.241.0.2 >/dev/null 2>&1 && break
	done
	sleep 1
	idle1=$(mem_mib "$pid1" VmRSS)
	idle2=$(mem_mib "$pid2" VmRSS)
	anon1=$(mem_mib "$pid1" RssAnon)
	anon2=$(mem_mib "$pid2" RssAnon)
	rtt=$(ip netns exec "$n1" timeout $((pings + 10)) ping -q -c "$pings" -i 0.05 10.241.0.2 |
		awk -F/ '/^rtt|^round-trip/ { printf "%.3f", $5 }')
	ip netns exec "$n2" iperf3 -s -B 10.241.0.2 >/dev/null 2>&1 &
	srv=$!
	pids+=("$srv")
	sleep 0.5
	one=() four=() cpu=()
	for ((r = 0; r < runs; r++)); do
		out=$(iperf_run "$n1" 1 "$pid1" "$pid2")
		one+=("${out% *}")
		cpu+=("${out#* }")
	done
	for ((r = 0; r < runs; r++)); do
		out=$(iperf_run "$n1" 4 "$pid1" "$pid2")
		four+=("${out% *}")
	done
	small=() smallcol=
	if [ "$pad" = 1 ]; then
		iperf_args=(-M "$mss")
		for ((r = 0; r < runs; r++)); do
			out=$(iperf_run "$n1" 1 "$pid1" "$pid2")
			small+=("${out% *}/${out#* }")
		done
		iperf_args=()
		smallcol=" $(printf '%s\n' "${small[@]%/*}" | grep -v n/a | median) / $(
			printf '%s\n' "${small[@]#*/}" | grep -v n/a | median) |"
	fi
	peak1=$(mem_mib "$pid1" VmHWM)
	peak2=$(mem_mib "$pid2" VmHWM)
	[ "$perf" = 1 ] && [ "$eng" = awgd ] && [ "$params" = awg ] && perf_run "$n1" "$pid1" "$pid2"
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	sleep 2
	after1=$(mem_mib "$pid1" VmRSS)
	after2=$(mem_mib "$pid2" VmRSS)
	printf '| %s | %s | %s | %s | %s | %s / %s | %s / %s | %s / %s | %s / %s | %s |%s\n' \
		"$eng" "$params" \
		"$(printf '%s\n' "${one[@]}" | grep -v n/a | median)" \
		"$(printf '%s\n' "${four[@]}" | grep -v n/a | median)" \
		"${rtt:-n/a}" "$idle1" "$idle2" "$anon1" "$anon2" "$peak1" "$peak2" "$after1" "$after2" \
		"$(printf '%s\n' "${cpu[@]}" | grep -v n/a | median)" "$smallcol"
	stop_engines "$pid1" "$pid2" "$s1" "$s2"
}

# perf_run NS1 PID1 PID2: one more 1-stream run (not in the table) with perf recording the
# sending awgd (PID1, all threads; BENCH_PERF_SIDE=rx: the receiving one, PID2); results in
# $outdir (see bench/README.md).
perf_run() {
	local ns=$1 pid=$2 base=$outdir/awgd-awg-tx cg=(-g) rec out who=sender
	if [ "${BENCH_PERF_SIDE:-tx}" = rx ]; then
		pid=$3 base=$outdir/awgd-awg-rx who=receiver
	fi
	[ "$perf_cg" = fp ] || cg=(--call-graph "$perf_cg")
	rm -f "$base".*
	timeout $((secs + 60)) perf record -q -e cpu-clock -F 2000 "${cg[@]}" -p "$pid" \
		-o "$base.data" -- sleep $((secs + 2)) >"$workdir/perf.log" 2>&1 &
	rec=$!
	pids+=("$rec")
	sleep 0.5
	out=$(iperf_run "$ns" 1 "$2" "$3")
	wait "$rec" 2>/dev/null
	if [ ! -s "$base.data" ]; then
		echo "throughput.sh: perf record failed: $(tail -3 "$workdir/perf.log")" >&2
		return
	fi
	echo "${out% *} Mbit/s, ${out#* } CPU s per Gbit (1 stream, under perf)" >"$base.run"
	timeout 300 perf script -i "$base.data" -F comm,pid,tid,ip,sym,dso 2>/dev/null |
		python3 "$root/bench/flame.py" --pid "$pid" --out "$base" \
			--title "awgd $who, awg, 1 stream, $(date -u +%Y-%m-%d)" ||
		echo "throughput.sh: flame.py failed" >&2
	timeout 120 perf report -i "$base.data" --stdio --no-children --sort dso,symbol -g none \
		2>/dev/null | grep -v '^#' | grep -v '^$' | head -30 >"$base.report.txt"
	echo "perf: $(cat "$base.run"); see $base.{top.txt,summary.txt,folded,svg}" >&2
}

stop_engines() {
	kill "$1" "$2" 2>/dev/null
	timeout 5 tail --pid="$1" -f /dev/null 2>/dev/null || kill -9 "$1" 2>/dev/null
	timeout 5 tail --pid="$2" -f /dev/null 2>/dev/null || kill -9 "$2" 2>/dev/null
	rm -f "$3" "$4"
}

(umask 077 && wg genkey >"$workdir/key1" && wg genkey >"$workdir/key2") || die "wg genkey"

engines=("awgd a" "wireguard-go w")
[ -n "$ref" ] && engines+=("amneziawg-go m")
if [ -n "${BENCH_ENGINES:-}" ]; then
	# A subset, for quicker looks: BENCH_ENGINES="awgd amneziawg-go".
	all=("${engines[@]}")
	engines=()
	for e in "${all[@]}"; do
		case " $BENCH_ENGINES " in *" ${e% *} "*) engines+=("$e") ;; esac
	done
	[ ${#engines[@]} -gt 0 ] || die "BENCH_ENGINES names no known engine: $BENCH_ENGINES"
fi

echo "## awgd throughput, $(date -u +%Y-%m-%d)"
echo
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "$(uname -r), $(nproc) CPUs ($cpu)," \
     "iperf3 TCP ${secs}s x $runs runs (median), $pings pings;" \
     "awgd $(git -C "$root" describe --always --dirty 2>/dev/null)"
echo
head=("1 stream Mbit/s" "4 streams Mbit/s" "ping avg ms" "RSS idle MiB (tx / rx)"
	"of which anon" "RSS peak MiB" "RSS after MiB" "CPU s per Gbit")
rule="|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
if [ "$pad" = 1 ]; then
	head+=("MSS $mss, 1 stream: Mbit/s / CPU s per Gbit")
	rule+="---:|"
fi
printf '| engine | params |'
printf ' %s |' "${head[@]}"
echo
echo "$rule"
for e in "${engines[@]}"; do
	read -r eng code <<<"$e"
	setup_pair "$code"
	bench_row "$eng" "$code" plain
	if [ "$eng" != wireguard-go ]; then
		bench_row "$eng" "$code" awg
		if [ "$pad" = 1 ]; then
			bench_row "$eng" "$code" awg+pad
			bench_row "$eng" "$code" awg+trail
		fi
	fi
done
echo
mss_note=
[ "$pad" = 1 ] && mss_note="MSS $mss = iperf3 -M $mss: sub-MTU segments, whose sizes padding varies."
echo "awg = jc 4, jmin 40, jmax 70, s1..s4 15/18/20/23, ranged h1..h4 (spec §7.4)," \
     "header protection key, tunnel MTU 1400; plain = WireGuard framing, MTU 1420." \
     "awg+pad = awg and content_padding_addition=0-64; awg+trail = awg and random_trailers=1." \
     "$mss_note" \
     "RSS (VmRSS; peak = VmHWM) and CPU are the engine processes (tx = iperf3 client side);" \
     "anon = RssAnon, the part not backed by shared-library files;" \
     "CPU = both engines' utime+stime during the 1-stream runs per Gbit received."
