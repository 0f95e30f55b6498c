#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# awgd <-> awgd with a full AWG 3.1 parameter set: ping and a 100 MiB TCP transfer with sha256.
set -euo pipefail
TEST=awg31
. "$(dirname "$0")/lib.sh"
netns_init

HPK=$(rand_hex32)
log "setting up awgd <-> awgd (AWG 3.1: junk, I1/I2, S1-S4, ranged H, header protection, padding, trailers)"
setup_pair 42 \
	jc=4 jmin=40 jmax=70 \
	"i1=<r 2><b 0x858000010001000000000669636c6f756403636f6d0000010001c00c000100010000105a00044d583737><rc 8><rd 4><t>" \
	"i2=<b 0x1603010200><r 32><t>" \
	s1=15 s2=18 s3=20 s4=23 \
	h1=1020325451-1020335451 h2=3288052141-3288062141 \
	h3=1766607858-1766617858 h4=2528465083-2528475083 \
	"header_protection_key=$HPK" content_padding_addition=0-64 random_trailers=1

check "the configuration reads back"
assert_eq "$(dev_field "$IF_A" h4)" "2528465083-2528475083" "h4"
assert_eq "$(dev_field "$IF_A" s4)" "23" "s4"
assert_eq "$(dev_field "$IF_A" header_protection_key)" "$HPK" "header_protection_key"
assert_eq "$(dev_field "$IF_A" random_trailers)" "1" "random_trailers"
assert_eq "$(dev_field "$IF_A" content_padding_addition)" "0-64" "content_padding_addition"

check "ping through the tunnel"
wait_ping "$NS_A" "$TUN_B" 10
ping_check "$NS_A" "$TUN_B" 10
ping_check "$NS_B" "$TUN_A" 5

check "100 MiB TCP transfer A -> B with sha256 comparison"
transfer "$NS_B" "$TUN_B" "$NS_A" 100
check "20 MiB TCP transfer B -> A"
transfer "$NS_A" "$TUN_A" "$NS_B" 20 5202
{ kill -0 "$PID_A" && kill -0 "$PID_B"; } || fail "a daemon died"
