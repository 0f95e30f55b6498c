#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# src/tunnel/netcfg.c against the kernel: links, addresses, routes, rules and route-MTU lookups
# through $NETCFG_TEST in a fresh namespace with veth links, checked with ip(8); at the end the
# namespace's addresses, routes and rules must equal what they were before.
set -euo pipefail
TEST=netcfg
# netns_init wants an awgd; this test needs none, so any executable satisfies the check.
: "${NETCFG_TEST:=$(dirname "$0")/../../build/tests/netns/netcfg-test}"
NETCFG_TEST=$(readlink -f "$NETCFG_TEST")
: "${AWGD:=$NETCFG_TEST}"
. "$(dirname "$0")/lib.sh"
netns_init
[ -x "$NETCFG_TEST" ] || fail "NETCFG_TEST=$NETCFG_TEST is not executable"

NS=awgt-netcfg
PEER_NS=awgt-netcfg-peer
DEV=nc0
TABLE=51820
MARK=0xca6c	# 51820

nc() { ip netns exec "$NS" "$NETCFG_TEST" "$@"; }
ipn() { ip -n "$NS" "$@"; }

# expect_ok CMD...: runs netcfg-test; fails the test on an error.
expect_ok() {
	local out
	out=$(nc "$@") || fail "netcfg-test $* failed: $out"
	printf '%s' "$out"
}

# expect_err ERRNAME CMD...: netcfg-test must fail with exactly -ERRNAME.
expect_err() {
	local want=$1 out rc=0
	shift
	out=$(nc "$@" 2>/dev/null) || rc=$?
	[ "$rc" -eq 2 ] || fail "netcfg-test $* exited $rc (want 2, -$want): $out"
	case "$out" in
	"error: -$want ("*) ok "$* -> $out" ;;
	*) fail "netcfg-test $*: got '$out', want -$want" ;;
	esac
}

assert_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
	ok "$3 = $2"
}

# norm CMD...: CMD's output with tabs as spaces and no trailing blanks (ip(8) leaves some).
norm() { "$@" | sed 's/\t/ /g; s/ *$//'; }

# has_line TEXT LINE: TEXT has LINE exactly (tabs and trailing blanks normalised).
has_line() { printf '%s\n' "$1" | sed 's/\t/ /g; s/ *$//' | grep -qxF -- "$2"; }

snapshot() {
	ipn addr
	ipn route show table all
	ipn -6 route show table all
	ipn rule
	ipn -6 rule
}

# The peer of $DEV lives in its own namespace and stays up, so $DEV has carrier when up (no
# "linkdown" routes) and nothing of the peer shows in $NS's snapshots.
log "namespace $NS with veth $DEV (peer in $PEER_NS) and a veth pair ${DEV}x/${DEV}y"
ns_add "$NS"
ns_add "$PEER_NS"
ip link add "$DEV" netns "$NS" type veth peer name "${DEV}p" netns "$PEER_NS"
ip -n "$PEER_NS" link set "${DEV}p" up
# The first up attaches the default qdisc (noop -> noqueue), which down keeps: do it here so
# the snapshots differ only by what netcfg leaves behind.
ipn link set "$DEV" up
ipn link set "$DEV" down
BEFORE=$(snapshot)
ipn link add "${DEV}x" type veth peer name "${DEV}y"

check "link index, MTU, up/down, delete"
assert_eq "$(expect_ok index dev=$DEV)" "$(ipn -j link show $DEV | jq '.[0].ifindex')" "ifindex"
expect_ok mtu dev=$DEV mtu=1420
assert_eq "$(ipn -j link show $DEV | jq '.[0].mtu')" 1420 "ip link mtu"
assert_eq "$(expect_ok getmtu dev=$DEV)" 1420 "getmtu"
expect_ok up dev=$DEV
ipn link show $DEV | grep -q '<[^>]*,UP[,>]' || fail "$DEV not up"
ok "$DEV is up"
expect_ok linkdel dev=${DEV}x
ipn link show ${DEV}x 2>/dev/null && fail "${DEV}x still exists"
ok "${DEV}x deleted"
expect_err ENODEV index dev=${DEV}x
expect_err ENODEV mtu dev=nosuchdev mtu=1400
expect_err EINVAL mtu dev=$DEV mtu=10

check "addresses v4 and v6"
expect_ok addr-add dev=$DEV addr=10.77.0.1/24
expect_ok addr-add dev=$DEV addr=10.77.1.1/32
expect_ok addr-add dev=$DEV addr=fd77::1/64
addrs=$(ipn -j addr show dev $DEV | jq -r '.[0].addr_info[] | "\(.local)/\(.prefixlen)"')
for a in 10.77.0.1/24 10.77.1.1/32 fd77::1/64; do
	has_line "$addrs" "$a" || fail "address $a missing: $addrs"
	ok "ip addr shows $a"
done
v6flags=$(ipn -j addr show dev $DEV |
	jq -r '.[0].addr_info[] | select(.local=="fd77::1") | .tentative // false')
assert_eq "$v6flags" false "fd77::1 not tentative (nodad)"
listed=$(expect_ok addr-list dev=$DEV)
for a in 10.77.0.1/24 10.77.1.1/32 fd77::1/64; do
	has_line "$listed" "$a" || fail "addr-list lacks $a: $listed"
done
ok "addr-list shows all three"
assert_eq "$(expect_ok addr-list dev=$DEV family=4 | grep -c .)" 2 "addr-list family=4 count"
expect_err EEXIST addr-add dev=$DEV addr=10.77.0.1/24
expect_err EEXIST addr-add dev=$DEV addr=fd77::1/64
expect_err ENODEV addr-add dev=nosuchdev addr=10.77.9.1/24
expect_err EINVAL addr-add dev=$DEV addr=10.77.9.1/33
expect_err EADDRNOTAVAIL addr-del dev=$DEV addr=10.77.9.1/24
expect_ok addr-del dev=$DEV addr=10.77.1.1/32
ipn addr show dev $DEV | grep -q '10\.77\.1\.1/' && fail "10.77.1.1 still there"
ok "10.77.1.1/32 deleted"
expect_ok addr-add dev=$DEV addr=10.77.1.1/32

check "routes in main and table $TABLE"
expect_ok route-add dst=10.99.0.0/16 dev=$DEV
expect_ok route-add dst=fd99::/48 dev=$DEV
expect_ok route-add dst=0.0.0.0/0 dev=$DEV table=$TABLE
expect_ok route-add dst=::/0 dev=$DEV table=$TABLE
has_line "$(ipn route show)" "10.99.0.0/16 dev $DEV scope link" ||
	fail "v4 route missing: $(ipn route show)"
ok "main: 10.99.0.0/16 dev $DEV scope link"
has_line "$(ipn -6 route show)" "fd99::/48 dev $DEV metric 1024 pref medium" ||
	fail "v6 route missing: $(ipn -6 route show)"
ok "main: fd99::/48 dev $DEV"
assert_eq "$(norm ipn route show table $TABLE)" "default dev $DEV scope link" "table $TABLE (v4)"
assert_eq "$(norm ipn -6 route show table $TABLE)" "default dev $DEV metric 1024 pref medium" \
	"table $TABLE (v6)"
expect_err EEXIST route-add dst=10.99.0.0/16 dev=$DEV
expect_ok route-add dst=10.99.0.0/16 dev=$DEV replace proto=4
has_line "$(ipn route show)" "10.99.0.0/16 dev $DEV proto static scope link" ||
	fail "replaced route missing: $(ipn route show)"
ok "replace: 10.99.0.0/16 now proto static"
expect_ok route-add dst=10.98.0.0/16 dev=$DEV metric=50
has_line "$(ipn route show)" "10.98.0.0/16 dev $DEV scope link metric 50" ||
	fail "metric route missing: $(ipn route show)"
ok "10.98.0.0/16 metric 50"
expect_err ENODEV route-add dst=10.97.0.0/16 dev=nosuchdev
expect_err ESRCH route-del dst=10.96.0.0/16 dev=$DEV

check "route-MTU lookup"
assert_eq "$(expect_ok route-mtu dst=10.77.0.5)" "mtu 1420 dev $DEV" "v4 on-link"
assert_eq "$(expect_ok route-mtu dst=fd77::5)" "mtu 1420 dev $DEV" "v6 on-link"
ipn route add 10.88.0.0/24 dev $DEV mtu 1300
ipn -6 route add fd88::/64 dev $DEV mtu 1300
assert_eq "$(expect_ok route-mtu dst=10.88.0.9)" "mtu 1300 dev $DEV" "v4 route mtu metric"
assert_eq "$(expect_ok route-mtu dst=fd88::9)" "mtu 1300 dev $DEV" "v6 route mtu metric"
ipn route del 10.88.0.0/24 dev $DEV
ipn -6 route del fd88::/64 dev $DEV
expect_err ENETUNREACH route-mtu dst=192.0.2.1
expect_err ENETUNREACH route-mtu dst=2001:db8::1

check "full-tunnel rules (-4 and -6)"
for fam in 4 6; do
	expect_ok rule-add family=$fam prio=32765 fwmark=$MARK not table=$TABLE
	expect_ok rule-add family=$fam prio=32764 table=254 suppress=0
	rules=$(ipn -$fam rule)
	has_line "$rules" "32765: not from all fwmark $MARK lookup $TABLE" ||
		fail "-$fam fwmark rule missing: $rules"
	ok "-$fam: 32765: not from all fwmark $MARK lookup $TABLE"
	has_line "$rules" "32764: from all lookup main suppress_prefixlength 0" ||
		fail "-$fam suppress rule missing: $rules"
	ok "-$fam: 32764: from all lookup main suppress_prefixlength 0"
	expect_err EEXIST rule-add family=$fam prio=32765 fwmark=$MARK not table=$TABLE
done
# Unmarked traffic now takes table 51820 (the tunnel); marked traffic sees only main.
assert_eq "$(expect_ok route-mtu dst=192.0.2.1)" "mtu 1420 dev $DEV" "v4 default via table $TABLE"
assert_eq "$(expect_ok route-mtu dst=2001:db8::1)" "mtu 1420 dev $DEV" "v6 default via table $TABLE"
expect_err ENETUNREACH route-mtu dst=192.0.2.1 fwmark=$MARK
expect_err ENETUNREACH route-mtu dst=2001:db8::1 fwmark=$MARK
for fam in 4 6; do
	expect_ok rule-del family=$fam prio=32765 fwmark=$MARK not table=$TABLE
	expect_ok rule-del family=$fam prio=32764 table=254 suppress=0
	ipn -$fam rule | grep -qE "lookup $TABLE|suppress_prefixlength" &&
		fail "-$fam rules left: $(ipn -$fam rule)"
	ok "-$fam rules deleted"
	expect_err ENOENT rule-del family=$fam prio=32765 fwmark=$MARK not table=$TABLE
done

check "rule-flush removes only rules for table $TABLE / fwmark $MARK / suppress main"
for fam in 4 6; do
	expect_ok rule-add family=$fam prio=32765 fwmark=$MARK not table=$TABLE
	expect_ok rule-add family=$fam prio=32764 table=254 suppress=0
	expect_ok rule-add family=$fam prio=1000 table=$TABLE
	expect_ok rule-add family=$fam prio=1001 fwmark=$MARK table=77
	ipn -$fam rule add prio 2000 fwmark 0x1 table 200
done
assert_eq "$(expect_ok rule-flush family=4 table=$TABLE fwmark=$MARK suppress-main)" \
	"deleted 4" "-4 flush count"
assert_eq "$(expect_ok rule-flush family=6 table=$TABLE fwmark=$MARK suppress-main)" \
	"deleted 4" "-6 flush count"
for fam in 4 6; do
	rules=$(ipn -$fam rule)
	has_line "$rules" "2000: from all fwmark 0x1 lookup 200" || fail "-$fam unrelated rule lost"
	printf '%s\n' "$rules" | grep -qE "lookup ($TABLE|77)|suppress" &&
		fail "-$fam flush left rules: $rules"
	ok "-$fam: flushed, unrelated rule kept"
	ipn -$fam rule del prio 2000
	assert_eq "$(expect_ok rule-flush family=$fam table=$TABLE fwmark=$MARK suppress-main)" \
		"deleted 0" "-$fam second flush"
done

check "deleting routes and addresses"
expect_ok route-del dst=10.99.0.0/16 dev=$DEV
expect_ok route-del dst=10.98.0.0/16 dev=$DEV metric=50
expect_ok route-del dst=fd99::/48 dev=$DEV
expect_ok route-del dst=0.0.0.0/0 dev=$DEV table=$TABLE
expect_ok route-del dst=::/0 table=$TABLE
assert_eq "$(ipn route show table $TABLE; ipn -6 route show table $TABLE)" "" "table $TABLE empty"
ipn route show | grep -qE '10\.9[89]\.' && fail "v4 routes left: $(ipn route show)"
ipn -6 route show | grep -q 'fd99::' && fail "v6 route left: $(ipn -6 route show)"
ok "main routes deleted"
assert_eq "$(expect_ok addr-flush dev=$DEV family=4)" "deleted 2" "v4 flush"
assert_eq "$(expect_ok addr-list dev=$DEV family=4)" "" "no v4 addresses left"
expect_ok addr-del dev=$DEV addr=fd77::1/64
has_line "$(expect_ok addr-list dev=$DEV)" "fd77::1/64" && fail "fd77::1 still listed"
ok "fd77::1/64 deleted"

check "back to the starting state"
expect_ok down dev=$DEV
expect_ok mtu dev=$DEV mtu=1500
# Bringing the link up gave it a link-local address; down removes it. Flush covers the rest.
expect_ok addr-flush dev=$DEV >/dev/null
AFTER=$(snapshot)
if [ "$AFTER" != "$BEFORE" ]; then
	diff <(printf '%s\n' "$BEFORE") <(printf '%s\n' "$AFTER") >&2 || true
	fail "namespace state differs from the start"
fi
ok "ip addr, routes (all tables, v4+v6) and rules (v4+v6) equal the starting state"
