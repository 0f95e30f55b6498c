#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Process life cycle (socket removal, SIGTERM, daemon mode, --user) and UAPI error handling.
set -euo pipefail
TEST=lifecycle
. "$(dirname "$0")/lib.sh"
netns_init

NS="awgt-$TEST-x"
ns_add "$NS"
IFX=awglifex
SX=$(sock_path "$IFX")

check "removing the socket file ends the daemon and its interface"
start_awgd "$NS" "$IFX"
ip -n "$NS" link show "$IFX" >/dev/null || fail "no interface $IFX"
rm -f "$SX"
wait_until 5 "awgd exits after its socket is removed" bash -c "! kill -0 $AWGD_PID 2>/dev/null"
wait "$AWGD_PID" && ok "exited with status 0" || fail "exit status $? after socket removal"
ip -n "$NS" link show "$IFX" >/dev/null 2>&1 && fail "interface $IFX still exists"
ok "interface removed"

check "SIGTERM ends the daemon and removes its sockets (also the --wg-socket one)"
start_awgd "$NS" "$IFX" --wg-socket
[ -S "/var/run/wireguard/$IFX.sock" ] || fail "no /var/run/wireguard/$IFX.sock"
kill -TERM "$AWGD_PID"
wait_until 5 "awgd exits on SIGTERM" bash -c "! kill -0 $AWGD_PID 2>/dev/null"
wait "$AWGD_PID" && ok "exited with status 0" || fail "exit status $? after SIGTERM"
[ ! -e "$SX" ] || fail "$SX left behind after SIGTERM"
[ ! -e "/var/run/wireguard/$IFX.sock" ] || fail "/var/run/wireguard/$IFX.sock left behind"
ok "sockets removed"

check "daemon mode (no -f): the command returns, the daemon keeps serving"
_LOGS+=("$LOGDIR/daemon.log")
_SOCKETS+=("$SX")
_CLEANUP_HOOKS+=("for p in \$(ip netns pids $NS); do kill \$p; done; sleep 0.3")
rc=0
ip netns exec "$NS" timeout 10 env LOG_LEVEL=verbose "$AWGD" "$IFX" </dev/null >/dev/null \
	2>>"$LOGDIR/daemon.log" || rc=$?
assert_eq "$rc" 0 "exit status of the launching awgd"
test -S "$SX" || fail "no socket after daemon start"
dpid=$(ip netns pids "$NS" | head -n1)
[ -n "$dpid" ] || fail "no daemon process in $NS"
_PIDS+=("$dpid")
ok "daemon running as pid $dpid"
uapi_get "$IFX" | grep -q '^errno=0$' || fail "daemon does not answer get"
ok "daemon answers UAPI"

check "daemon mode without LOG_LEVEL: the daemon keeps none of the caller's output pipes"
IFY=awglifey
_SOCKETS+=("$(sock_path "$IFY")")
t0=$(date +%s)
out=$(ip netns exec "$NS" timeout 10 "$AWGD" "$IFY" 2>&1 </dev/null) ||
	fail "awgd $IFY (daemon mode) failed: $out"
[ $(( $(date +%s) - t0 )) -lt 5 ] || fail "\$(awgd $IFY 2>&1) returned only when the timeout ended"
ok "\$(awgd $IFY 2>&1) returns at once"
test -S "$(sock_path "$IFY")" || fail "no socket for $IFY"
ypid=$(ip netns pids "$NS" | grep -vx "$dpid" | head -n1)
_PIDS+=("$ypid")
rm -f "$(sock_path "$IFY")"
wait_until 5 "$IFY daemon exits after its socket is removed" proc_gone "$ypid"

check "UAPI error handling"
for c in get-trailing unknown-key no-equals multi-get pipelined unknown-op; do
	python3 "$NETNS_DIR/uapi_raw.py" "$SX" "$c" || fail "UAPI case $c"
done
proc_gone "$dpid" && fail "daemon died during the UAPI error cases"
ok "daemon still alive"
rm -f "$SX"
wait_until 5 "daemon exits after its socket is removed" proc_gone "$dpid"
ok "daemon ended by socket removal"

check "--user nobody: privileges dropped, traffic still flows"
AWGD_OPTS_B="--user nobody"
setup_pair 49
uid=$(awk '/^Uid:/{print $2}' "/proc/$PID_B/status")
assert_eq "$uid" "$(id -u nobody)" "uid of B's awgd"
capeff=$(awk '/^CapEff:/{print $2}' "/proc/$PID_B/status")
assert_eq "$capeff" 0000000000000000 "effective capabilities of B's awgd"
# --user implies the seccomp allow-list, in every thread (TSYNC).
for t in /proc/"$PID_B"/task/*; do
	assert_eq "$(awk '/^Seccomp:/{print $2}' "$t/status")" 2 "seccomp mode of thread ${t##*/}"
	assert_eq "$(awk '/^NoNewPrivs:/{print $2}' "$t/status")" 1 "no_new_privs of thread ${t##*/}"
done
grep -q "seccomp sandbox on" "$LOGDIR/$IF_B.log" || fail "B's log does not say the sandbox is on"
wait_ping "$NS_A" "$TUN_B" 10
ping_check "$NS_A" "$TUN_B" 5
ping_check "$NS_B" "$TUN_A" 3
transfer "$NS_B" "$TUN_B" "$NS_A" 20
uapi_set "$IF_B" <<<"jc=1"
ok "unprivileged daemon accepts UAPI set"
# A UAPI get, a port change (socket, bind) and a SIGUSR1 still work inside the filter.
uapi_get "$IF_B" | grep -q '^jc=1$' || fail "UAPI get from the sandboxed daemon"
uapi_set "$IF_B" <<<"listen_port=52999"
uapi_get "$IF_B" | grep -q '^listen_port=52999$' || fail "port change inside the sandbox"
kill -USR1 "$PID_B"
sleep 0.3
kill -0 "$PID_B" || fail "sandboxed daemon died"
ok "sandboxed daemon: get, rebind and SIGUSR1 work"

check "garbage from the network is dropped and counted; SIGUSR1 logs the counts"
IFG=awglifeg
start_awgd "$NS" "$IFG"
gpid=$AWGD_PID
uapi_set "$IFG" <<<"listen_port=51977"
ip -n "$NS" link set lo up
ip netns exec "$NS" python3 -c '
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in (1, 31, 32, 148, 200, 1500):
    for _ in range(5):
        s.sendto(os.urandom(n), ("127.0.0.1", 51977))
'
sleep 0.5
kill -USR1 "$gpid"
wait_until 5 "drop counts in the log" grep -q "datagrams dropped: 30" "$LOGDIR/$IFG.log"
grep -q "30 unclassifiable" "$LOGDIR/$IFG.log" || fail "per-reason count missing: $(tail -3 "$LOGDIR/$IFG.log")"
ok "30 garbage datagrams counted as unclassifiable"
proc_gone "$gpid" && fail "awgd died on garbage"
ok "daemon alive"

check "sockets handed over (AWG_UDP_FD4/6, as awg-tunnel does): port and fwmark are the parent's"
IFH=awglifeh
SH=$(sock_path "$IFH")
_LOGS+=("$LOGDIR/$IFH.log")
_SOCKETS+=("$SH")
# The parent binds both families to one port and marks them (root), then runs awgd as nobody.
ip netns exec "$NS" python3 - "$AWGD" "$IFH" "$LOGDIR/$IFH.log" <<'PY' &
import os, socket, subprocess, sys
awgd, ifn, logf = sys.argv[1:4]
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
for s in (s4, s6):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 0x1234)
s4.bind(("0.0.0.0", 52177))
s6.bind(("::", 52177))
env = dict(os.environ, LOG_LEVEL="verbose", AWG_UDP_FD4=str(s4.fileno()),
           AWG_UDP_FD6=str(s6.fileno()))
with open(logf, "ab") as log:
    p = subprocess.Popen([awgd, "-f", "--user", "nobody", ifn], env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=log, pass_fds=(s4.fileno(), s6.fileno()))
s4.close()
s6.close()
sys.exit(p.wait())
PY
hpid=$!
_PIDS+=("$hpid")
wait_until 10 "awgd $IFH socket" test -S "$SH"
uapi_get "$IFH" | grep -q '^listen_port=52177$' || fail "handed-over port not reported: $(uapi_get "$IFH" | head -3)"
uapi_get "$IFH" | grep -q "^fwmark=$((0x1234))$" || fail "handed-over fwmark not reported"
ok "UAPI reports the parent's port 52177 and fwmark 0x1234"
# awgd itself opened no UDP socket: it holds exactly the two handed over.
apid=$(pgrep -f "awgd -f --user nobody $IFH" | head -1)
n=$(ip netns exec "$NS" ss -Huanp | grep -c "pid=$apid,")
assert_eq "$n" 2 "UDP sockets held by awgd"
[ "$(ip netns exec "$NS" ss -Huanp | grep "pid=$apid," | grep -c ':52177 ')" = 2 ] ||
	fail "awgd's sockets are not the two on port 52177: $(ip netns exec "$NS" ss -Huanp)"
if python3 "$UAPI" "$SH" set <<<"listen_port=52178" >/dev/null 2>&1; then
	fail "listen_port change accepted with handed-over sockets"
fi
grep -q "listen_port=52178 refused" "$LOGDIR/$IFH.log" || fail "no refusal in the log"
uapi_set "$IFH" <<<"fwmark=$((0x1234))"
ok "a port change is refused (EADDRINUSE), the same fwmark is accepted"
kill -TERM "$apid"
wait "$hpid" || fail "awgd with handed-over sockets exited with $?"
ok "awgd with handed-over sockets exits cleanly on SIGTERM"
