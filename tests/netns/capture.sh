#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Wire format on the underlay (tcpdump + pcap analysis): decoys, sizes, header protection/H values.
set -euo pipefail
TEST=capture
. "$(dirname "$0")/lib.sh"
# tcpdump on a veth sees a UDP GSO send as one packet before the kernel splits it; count
# datagrams as the wire has them by keeping awgd's sends unsegmented here.
export AWG_NO_UDP_OFFLOAD=1
netns_init

I1B=858000010001000000000669636c6f756403636f6d0000010001c00c000100010000105a00044d583737
H=(h1=1020325451-1020335451 h2=3288052141-3288062141 h3=1766607858-1766617858 h4=2528465083-2528475083)
COMMON=(jc=3 jmin=40 jmax=70 "i1=<r 2><b 0x$I1B><rc 8><rd 4><t>" "i2=<b 0x16030102><r 40>"
	s1=15 s2=18 s3=20 s4=23 "${H[@]}" content_padding_addition=0-64
	rekey_after_time=3 rekey_timeout=1)
CHECK_ARGS=(s1=15 s2=18 s3=20 s4=23 "${H[@]}" jc=3 jmin=40 jmax=70 "ipkts=60,44" "i1b=$I1B" min_inits=2)

# run N LABEL [extra device lines...]: ping for 8 s with rekeys every 3 s, capture, analyse.
run() {
	local n=$1 label=$2 pcapf
	shift 2
	setup_pair "$n" "${COMMON[@]}" "$@"
	pcapf="$LOGDIR/run$n.pcap"
	start_capture "$NS_B" veth-b "$pcapf" udp
	ping_check "$NS_A" "$TUN_B" 40 1
	stop_capture "$CAP_PID"
	check "$label: wire format in the capture"
	python3 "$NETNS_DIR/capture_check.py" "$pcapf" a="$UNDER_A" b="$UNDER_B" "${CHECK_ARGS[@]}" \
		"${CHECK_EXTRA[@]}" || fail "$label: capture analysis failed (pcap: $pcapf)"
	teardown_pair
}

HPK=$(rand_hex32)
log "run 1: AWG 3.1 set with header protection, trailers off (exact sizes)"
CHECK_EXTRA=(hpk="$HPK" trailers=0)
run 45 "HP on, trailers off" header_protection_key="$HPK" random_trailers=0
log "run 2: AWG 3.1 set without header protection, trailers on (H ranges visible)"
CHECK_EXTRA=(trailers=1)
run 46 "HP off, trailers on" random_trailers=1
