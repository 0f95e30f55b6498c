#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# awg-manager and awgctl with real users and groups (useradd; clients run as them with runuser):
#   - admin (group awg-admin) imports, starts (traffic passes between namespaces), reads status,
#     stops, edits, exports and deletes; operator (awg-operator with LimitedOperatorUI = 1)
#     lists, starts, stops, reads status and log, and receives no secret in any reply (raw
#     bytes); Create/Delete/Quit/Update are refused; a user in neither group gets nothing; a
#     user taken out of awg-operator loses access at the next request;
#   - the store: 0600 files in a 0700 directory, a file renamed to another tunnel fails to
#     decrypt with a clear log line, a flipped byte is caught, a planted symlink is not followed,
#     a plaintext drop-in is encrypted and removed, kill -9 during Create (20 times) leaves the
#     old or the new config;
#   - robustness: the IPC fuzz corpus and mutations against the running manager close only the
#     sending connection; 200 concurrent clients; a subscriber that never reads is disconnected
#     with the RSS bounded; a killed tunnel process is restarted with TunnelChange events; a
#     restarted manager brings enabled tunnels back (and adopts them with --keep-tunnels); Quit.
set -euo pipefail
TEST=manager
. "$(dirname "$0")/lib.sh"
netns_init
find_bins
export AWGD
MGRTOOL="python3 $NETNS_DIR/mgrtool.py"
CORPUS=$NETNS_DIR/../fuzz/corpus/mgrproto

NS_C=awgt-mgr-c NS_S=awgt-mgr-s
ns_add "$NS_C"
ns_add "$NS_S"
ns_link "$NS_C" vmc 192.168.92.1/24 "$NS_S" vms 192.168.92.2/24

# ---- users and groups (removed again at the end; groups only if this test made them) ----
U_ADM=awgt-adm U_OP=awgt-op U_NONE=awgt-none
for g in awg-admin awg-operator; do
	if ! getent group "$g" >/dev/null; then
		groupadd --system "$g"
		_CLEANUP_HOOKS+=("groupdel $g")
	fi
done
for u in $U_ADM $U_OP $U_NONE; do
	userdel "$u" 2>/dev/null || true
	useradd --system --no-create-home --shell /usr/sbin/nologin "$u"
	_CLEANUP_HOOKS=("userdel $u" "${_CLEANUP_HOOKS[@]}")
done
usermod -aG awg-admin $U_ADM
usermod -aG awg-operator $U_OP

STATE=$LOGDIR/state RUN=$LOGDIR/run POLICY=$LOGDIR/policy.conf
SOCK=$RUN/manager.sock
printf '# test policy\nLimitedOperatorUI = 1\n' >"$POLICY"
chmod 644 "$POLICY"
export AWG_MANAGER_SOCKET=$SOCK

# as USER CMD...: runs CMD as USER (its groups from the group database, no shell).
as() {
	local u=$1
	shift
	runuser -u "$u" -- env AWG_MANAGER_SOCKET="$SOCK" "$@"
}
# refused USER SENTENCE CMD...: CMD as USER must fail and print SENTENCE.
refused() {
	local u=$1 want=$2 out
	shift 2
	if out=$(as "$u" "$@" 2>&1); then
		fail "$u: '$*' succeeded: $out"
	fi
	printf '%s\n' "$out" | grep -qF -- "$want" || fail "$u: '$*': expected '$want', got: $out"
	ok "$u: $* refused: $(printf '%s\n' "$out" | head -1)"
}

MGR_PID=
start_manager() {
	ip netns exec "$NS_C" "$AWG_MANAGER" --foreground --state-dir "$STATE" --run-dir "$RUN" \
		--policy "$POLICY" --tunnel-bin "$AWG_TUNNEL" "$@" >>"$LOGDIR/manager.log" 2>&1 &
	MGR_PID=$!
	_PIDS+=("$MGR_PID")
	wait_until 10 "manager socket" test -S "$SOCK"
	wait_until 10 "manager answers" $MGRTOOL "$SOCK" call Role
}
# state_is NAME STATE: the manager reports NAME in STATE (1 started, 2 stopped).
state_is() {
	$MGRTOOL "$SOCK" call State name="$1" | grep -q "\"state\": $2"
}
stop_manager() {
	kill -TERM "$MGR_PID" 2>/dev/null || true
	wait "$MGR_PID" 2>/dev/null || true
}
_LOGS+=("$LOGDIR/manager.log")
_CLEANUP_HOOKS+=("kill -TERM \$MGR_PID; sleep 1"
		 "ip netns exec $NS_C $AWG_TUNNEL down awgtm1"
		 "ip netns exec $NS_C $AWG_TUNNEL down awgtm2"
		 "ip netns exec $NS_S $AWG_TUNNEL down awgtms")

# ---- the server end (plain awg-tunnel in S) and the client configs ----
CONF=$LOGDIR/conf
mkdir -m 755 "$CONF"
keypair SRV
keypair CLI
keypair CL2
PSK=$(wg genpsk)
HP=$(wg genpsk)
AWG="$(cat "$NETNS_DIR/../../scripts/awg31-params.conf")
HeaderProtectionKey = $HP"
cat >"$CONF/awgtms.conf" <<EOF
[Interface]
PrivateKey = $SRV_PRIV64
ListenPort = 51892
Address = 10.92.0.1/24
$AWG

[Peer]
PublicKey = $CLI_PUB64
PresharedKey = $PSK
AllowedIPs = 10.92.0.2/32

[Peer]
PublicKey = $CL2_PUB64
AllowedIPs = 10.92.0.3/32
EOF
chmod 600 "$CONF/awgtms.conf"
ip netns exec "$NS_S" "$AWG_TUNNEL" up "$CONF/awgtms.conf" >"$LOGDIR/server.log" 2>&1 ||
	{ cat "$LOGDIR/server.log" >&2; fail "server tunnel did not come up"; }
cat >"$CONF/awgtm1.conf" <<EOF
# the client, imported by the admin
[Interface]
PrivateKey = $CLI_PRIV64
Address = 10.92.0.2/24
$AWG

[Peer]
PublicKey = $SRV_PUB64
PresharedKey = $PSK
Endpoint = 192.168.92.2:51892
AllowedIPs = 10.92.0.0/24
PersistentKeepalive = 5
EOF
# A second client that intersects the first (same network): starting it stops awgtm1. It has
# the kill switch on.
sed -e "s|$CLI_PRIV64|$CL2_PRIV64|" -e 's|10.92.0.2/24|10.92.0.3/24|' \
	-e 's|^\[Interface\]$|[Interface]\nKillSwitch = on|' \
	-e "/PresharedKey/d" "$CONF/awgtm1.conf" >"$CONF/awgtm2.conf"
chmod 644 "$CONF"/awgtm*.conf	# readable by the admin user who imports them
SECRETS=$LOGDIR/secrets
printf '%s\n' "$CLI_PRIV64" "$PSK" "$HP" "$SRV_PUB64" >"$SECRETS"

log "manager: $AWG_MANAGER (state $STATE, socket $SOCK)"
start_manager

check "roles: admin, operator, neither"
as $U_ADM "$AWGCTL" role | grep -q admin || fail "admin role"
as $U_OP "$AWGCTL" role | grep -q operator || fail "operator role"
refused $U_NONE "not allowed" "$AWGCTL" list
refused $U_NONE "not allowed" "$AWGCTL" role
ok "roles as expected"

check "admin: import, start, traffic, status"
as $U_ADM "$AWGCTL" import "$CONF/awgtm1.conf" >"$LOGDIR/import.out" 2>&1 ||
	{ cat "$LOGDIR/import.out" >&2; fail "import"; }
as $U_ADM "$AWGCTL" list | grep -q awgtm1 || fail "list after import"
refused $U_ADM "already exists" "$AWGCTL" import "$CONF/awgtm1.conf"
as $U_ADM "$AWGCTL" start awgtm1
wait_until 15 "awgtm1 started" state_is awgtm1 1
ip -n "$NS_C" link show awgtm1 >/dev/null || fail "no interface awgtm1 in the client namespace"
wait_ping "$NS_C" 10.92.0.1 10
ping_check "$NS_C" 10.92.0.1 5
as $U_ADM "$AWGCTL" status awgtm1 >"$LOGDIR/status.adm"
grep -q "$SRV_PUB64" "$LOGDIR/status.adm" || fail "admin status lacks the peer key"
grep -q "latest handshake" "$LOGDIR/status.adm" || fail "admin status lacks the handshake"
as $U_ADM "$AWGCTL" --json status awgtm1 | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d[0] if isinstance(d, list) else d
s = json.dumps(d)
assert "started" in s.lower(), s
assert "rx" in s or "received" in s, s' || fail "status --json"
ok "tunnel up through the manager, status shows peer, handshake and transfer"

check "operator: list, status, log, stop, start; no secret in any reply"
as $U_OP "$AWGCTL" list | grep -q awgtm1 || fail "operator list"
as $U_OP "$AWGCTL" status awgtm1 >"$LOGDIR/status.op"
for s in $(cat "$SECRETS"); do
	grep -qF -- "$s" "$LOGDIR/status.op" && fail "operator status shows a secret"
done
grep -q "hidden" "$LOGDIR/status.op" || fail "operator status does not mark hidden keys"
as $U_OP $MGRTOOL "$SOCK" nosecrets awgtm1 "$SECRETS" || fail "secrets in an operator reply"
as $U_OP "$AWGCTL" log >"$LOGDIR/log.op" || fail "operator log"
grep -q "\[TUN\] \[awgtm1\]" "$LOGDIR/log.op" || fail "no tunnel lines in the log"
grep -q "\[MGR\]" "$LOGDIR/log.op" || fail "no manager lines in the log"
for s in $(cat "$SECRETS"); do
	grep -qF -- "$s" "$STATE/log.bin" && fail "a secret is in log.bin"
done
as $U_OP $MGRTOOL "$SOCK" call LogFd | grep -q '"fd_writable": false' ||
	fail "the log descriptor handed to an operator is writable"
refused $U_OP "not allowed to create" "$AWGCTL" import "$CONF/awgtm2.conf"
refused $U_OP "not allowed to delete tunnels (operator)" "$AWGCTL" delete awgtm1
refused $U_OP "not allowed" $MGRTOOL "$SOCK" call Quit stop_tunnels=1
refused $U_OP "not allowed" $MGRTOOL "$SOCK" call Update
as $U_OP "$AWGCTL" export awgtm1 >"$LOGDIR/op-export.conf" || fail "operator export"
grep -q "^Endpoint = 192.168.92.2:51892" "$LOGDIR/op-export.conf" || fail "operator export lacks the endpoint"
grep -qiE "^(PrivateKey|PresharedKey|HeaderProtectionKey|PreUp|PostUp)" "$LOGDIR/op-export.conf" &&
	fail "operator export holds a secret key line"
for s in $(cat "$SECRETS"); do
	grep -qF -- "$s" "$LOGDIR/op-export.conf" && fail "operator export shows a secret"
done
as $U_OP "$AWGCTL" stop awgtm1
as $U_OP "$AWGCTL" wait awgtm1
ip -n "$NS_C" link show awgtm1 >/dev/null 2>&1 && fail "awgtm1 still exists after stop+wait"
as $U_OP "$AWGCTL" start awgtm1
wait_until 15 "awgtm1 started again" state_is awgtm1 1
wait_ping "$NS_C" 10.92.0.1 10
ok "operator may operate and sees no secret"

check "group membership is read per request"
gpasswd -d $U_OP awg-operator >/dev/null
refused $U_OP "not allowed" "$AWGCTL" list
usermod -aG awg-operator $U_OP
as $U_OP "$AWGCTL" list >/dev/null || fail "operator not re-admitted"
ok "removal from awg-operator took effect without a restart"

check "names are unique ignoring case; scripts need the policy and never reach operators"
refused $U_ADM "already exists" sh -c "\"$AWGCTL\" import --name AWGTM1 - <\"$CONF/awgtm1.conf\""
sed -e 's|^\[Interface\]$|[Interface]\nPostUp = echo awgt-script-marker|' "$CONF/awgtm2.conf" >"$CONF/awgtmscr.conf"
chmod 644 "$CONF/awgtmscr.conf"
as $U_ADM "$AWGCTL" import "$CONF/awgtmscr.conf" >/dev/null
refused $U_ADM "DangerousScriptExecution" "$AWGCTL" start awgtmscr
printf '%s\n' awgt-script-marker "$CL2_PRIV64" >"$LOGDIR/secrets-scr"
as $U_OP $MGRTOOL "$SOCK" nosecrets awgtmscr "$LOGDIR/secrets-scr" || fail "script text sent to an operator"
as $U_ADM "$AWGCTL" export awgtmscr | grep -q "^PostUp = echo awgt-script-marker" || fail "admin export lacks the script"
as $U_ADM "$AWGCTL" delete awgtmscr
ok "case-insensitive names, script policy, script redaction"

check "a name longer than an interface name; a tunnel that fails to come up"
LONG=awgt-long-tunnel-name-01
sed -e 's|10.92.0.2/24|10.93.0.2/24|' -e 's|AllowedIPs = 10.92.0.0/24|AllowedIPs = 10.93.0.0/24|' \
	"$CONF/awgtm1.conf" >"$CONF/$LONG.conf"
sed -e 's|^\[Interface\]$|[Interface]\nPreUp = exit 3|' "$CONF/$LONG.conf" >"$CONF/awgtmfail.conf"
chmod 644 "$CONF/$LONG.conf" "$CONF/awgtmfail.conf"
as $U_ADM "$AWGCTL" import "$CONF/$LONG.conf" "$CONF/awgtmfail.conf" >/dev/null
as $U_ADM "$AWGCTL" start $LONG
wait_until 15 "$LONG started" state_is $LONG 1
lif=$(ip -n "$NS_C" -o link show | sed -n 's/^[0-9]*: \(awg[0-9a-f]\{12\}\):.*/\1/p' | head -1)
[ -n "$lif" ] || fail "no awg<hash> interface for $LONG: $(ip -n "$NS_C" -o link show)"
as $U_OP "$AWGCTL" status $LONG | grep -q "interface: $lif" || fail "status does not name $lif"
as $U_ADM "$AWGCTL" stop $LONG
as $U_ADM "$AWGCTL" wait $LONG
printf 'LimitedOperatorUI = 1\nDangerousScriptExecution = 1\n' >"$POLICY"
as $U_ADM "$AWGCTL" start awgtmfail
wait_until 15 "awgtmfail failure reported" sh -c \
	"$MGRTOOL $SOCK call State name=awgtmfail | grep -q 'exited with status 1'"
as $U_OP "$AWGCTL" status awgtmfail | grep -q "exited with status 1" || fail "status hides the failure"
grep -q "tunnel awgtmfail: awg-tunnel exited with status 1; restarting in" "$LOGDIR/manager.log" ||
	fail "no restart with back-off logged"
as $U_ADM "$AWGCTL" stop awgtmfail
printf 'LimitedOperatorUI = 1\n' >"$POLICY"
as $U_ADM "$AWGCTL" delete awgtmfail
as $U_ADM "$AWGCTL" delete $LONG
ok "$LONG ran as $lif; a failing tunnel reports why and is retried with back-off"

check "Start stops an intersecting tunnel"
as $U_ADM "$AWGCTL" import "$CONF/awgtm2.conf" >/dev/null
as $U_ADM "$AWGCTL" start awgtm2
wait_until 15 "awgtm2 started" state_is awgtm2 1
state_is awgtm1 2 || fail "awgtm1 still running"
wait_ping "$NS_C" 10.92.0.1 10
as $U_OP "$AWGCTL" status awgtm2 | grep -q "kill switch: on (active)" || fail "status lacks the kill switch"
as $U_OP "$AWGCTL" --json status awgtm2 | grep -q '"kill_switch_active":true' || fail "json lacks the kill switch"
ip netns exec "$NS_C" nft list tables | grep -q "awg_ks_awgtm2" || fail "no kill-switch table"
as $U_ADM "$AWGCTL" start awgtm1
wait_until 15 "awgtm1 back" state_is awgtm1 1
state_is awgtm2 2 || fail "awgtm2 still running"
ip netns exec "$NS_C" nft list tables | grep -q "awg_ks_awgtm2" && fail "kill-switch table left after stop"
ok "intersecting tunnels do not run side by side; the kill switch shows in status"

check "the store on disk"
[ "$(stat -c %a "$STATE/configurations")" = 700 ] || fail "configurations is not 0700"
for f in "$STATE"/configurations/*.conf.enc; do
	[ "$(stat -c '%a %u' "$f")" = "600 0" ] || fail "$f is not 0600 root"
	grep -qF "$CLI_PRIV64" "$f" && fail "$f holds the private key in clear"
done
[ "$(stat -c %a "$STATE/store.key")" = 400 ] || fail "store.key is not 0400"
cp "$STATE/configurations/awgtm2.conf.enc" "$STATE/configurations/awgtmx.conf.enc"
refused $U_ADM "does not decrypt" "$AWGCTL" export awgtmx
grep -q "awgtmx.*does not decrypt" "$LOGDIR/manager.log" || fail "no clear log line for awgtmx"
rm "$STATE/configurations/awgtmx.conf.enc"
cp "$STATE/configurations/awgtm2.conf.enc" "$LOGDIR/awgtm2.bak"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' \
	"$STATE/configurations/awgtm2.conf.enc"
refused $U_ADM "does not decrypt" "$AWGCTL" export awgtm2
cp "$LOGDIR/awgtm2.bak" "$STATE/configurations/awgtm2.conf.enc"
printf 'not a config\n' >"$LOGDIR/target"
ln -s "$LOGDIR/target" "$STATE/configurations/awgtmlink.conf.enc"
if as $U_ADM "$AWGCTL" export awgtmlink >/dev/null 2>&1; then fail "symlink followed"; fi
as $U_ADM "$AWGCTL" list | grep -q awgtmlink && fail "symlink listed as a tunnel"
[ "$(cat "$LOGDIR/target")" = "not a config" ] || fail "symlink target changed"
rm "$STATE/configurations/awgtmlink.conf.enc"
cp "$CONF/awgtm2.conf" "$STATE/configurations/awgtmdrop.conf"
wait_until 10 "drop-in encrypted" test -f "$STATE/configurations/awgtmdrop.conf.enc"
wait_until 10 "drop-in plaintext removed" test ! -e "$STATE/configurations/awgtmdrop.conf"
as $U_ADM "$AWGCTL" list | grep -q awgtmdrop || fail "drop-in not listed"
as $U_ADM "$AWGCTL" export awgtmdrop | grep -q "$CL2_PRIV64" || fail "drop-in export"
as $U_ADM "$AWGCTL" delete awgtmdrop
ok "modes, name binding, tamper, symlink and drop-in"

check "admin: edit and export"
EDIT_SCRIPT=$LOGDIR/editor.sh
printf '#!/bin/sh\nsed -i "s/PersistentKeepalive = 5/PersistentKeepalive = 7/" "$1"\n' >"$EDIT_SCRIPT"
chmod 755 "$EDIT_SCRIPT"
as $U_ADM env EDITOR="$EDIT_SCRIPT" VISUAL= "$AWGCTL" edit awgtm2 >"$LOGDIR/edit.out" 2>&1 ||
	{ cat "$LOGDIR/edit.out" >&2; fail "edit"; }
as $U_ADM "$AWGCTL" export awgtm2 >"$LOGDIR/export.conf"
grep -q "PersistentKeepalive = 7" "$LOGDIR/export.conf" || fail "edit not stored"
grep -q "$CL2_PRIV64" "$LOGDIR/export.conf" || fail "admin export lacks the private key"
ok "edit stored, export complete"

check "kill -9 of the manager during Create, 20 times"
sed 's/PersistentKeepalive = 7/PersistentKeepalive = 8/' "$LOGDIR/export.conf" >"$CONF/crashB.conf"
cp "$LOGDIR/export.conf" "$CONF/crashA.conf"
python3 - "$CONF/crashA.conf" "$CONF/crashB.conf" <<'EOF'
import sys
# Large configs (long I-packet specs) so that a Create takes a while to write.
for p in sys.argv[1:]:
    t = open(p).read().replace("[Peer]", "I5 = <r 1000>" + "<b 0x" + "ab" * 4000 + ">\n\n[Peer]", 1)
    open(p, "w").write(t)
EOF
chmod 644 "$CONF"/crash*.conf
for i in $(seq 20); do
	which=$([ $((i % 2)) -eq 0 ] && echo A || echo B)
	( while as $U_ADM "$AWGCTL" import --force --name awgtm2 - <"$CONF/crash$which.conf" >/dev/null 2>&1; do :; done ) &
	loop=$!
	sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
	kill -KILL "$MGR_PID"
	wait "$MGR_PID" 2>/dev/null || true
	kill "$loop" 2>/dev/null || true
	wait "$loop" 2>/dev/null || true
	start_manager
	as $U_ADM "$AWGCTL" export awgtm2 >"$LOGDIR/crash.out" 2>&1 || { cat "$LOGDIR/crash.out" >&2; fail "export after kill $i"; }
	grep -qE "PersistentKeepalive = [78]" "$LOGDIR/crash.out" || fail "kill $i: neither config"
	ls "$STATE"/configurations | grep -q '\.tmp$' && fail "kill $i: a temp file survived a restart"
done
ok "20 kills: always the old or the new config"

check "fuzz corpus and mutations against the running manager"
as $U_OP $MGRTOOL "$SOCK" fuzz "$CORPUS" 1000 || fail "fuzz replay"
kill -0 "$MGR_PID" || fail "the manager died"
ok "only the sending connections were closed"

check "200 concurrent clients"
$MGRTOOL "$SOCK" concurrent 200 || fail "concurrent clients"
ok "all answered"

check "a subscriber that never reads"
$MGRTOOL "$SOCK" slowreader "$MGR_PID" awgtmev "$CONF/awgtm2.conf" || fail "slow reader"
as $U_ADM "$AWGCTL" delete awgtmev
ok "disconnected, RSS bounded"

check "a killed tunnel process is restarted, with TunnelChange events"
wait_until 15 "awgtm1 started" state_is awgtm1 1
$MGRTOOL "$SOCK" events awgtm1 Stopped,Starting,Started 30 >"$LOGDIR/events.out" 2>&1 &
ev=$!
wait_until 5 "event listener" grep -q subscribed "$LOGDIR/events.out"
tpid=$(sed -n 's/^pid=//p' /run/awg-tunnel/awgtm1.state)
[ -n "$tpid" ] || fail "no awg-tunnel pid for awgtm1"
kill -KILL "$tpid"
wait "$ev" || { cat "$LOGDIR/events.out" >&2; fail "no Stopped/Starting/Started events"; }
cat "$LOGDIR/events.out"
wait_ping "$NS_C" 10.92.0.1 15
ok "restarted after kill -9 (pid $tpid)"

check "manager restart brings the enabled tunnel back"
stop_manager
ip -n "$NS_C" link show awgtm1 >/dev/null 2>&1 && fail "SIGTERM left awgtm1 up"
start_manager
wait_until 15 "awgtm1 back after restart" state_is awgtm1 1
wait_ping "$NS_C" 10.92.0.1 15
stop_manager
start_manager --keep-tunnels
wait_until 15 "awgtm1 up" state_is awgtm1 1
tpid=$(sed -n 's/^pid=//p' /run/awg-tunnel/awgtm1.state)
stop_manager
kill -0 "$tpid" || fail "--keep-tunnels: awg-tunnel stopped with the manager"
ping_check "$NS_C" 10.92.0.1 3
start_manager
state_is awgtm1 1 || fail "not adopted"
[ "$(sed -n 's/^pid=//p' /run/awg-tunnel/awgtm1.state)" = "$tpid" ] || fail "restarted, not adopted"
grep -q "adopted running awg-tunnel pid $tpid" "$LOGDIR/manager.log" || fail "no adoption log line"
ok "enabled tunnel back after restart; kept and adopted with --keep-tunnels"

check "admin: delete; Quit stops everything"
as $U_ADM "$AWGCTL" delete awgtm2
as $U_ADM "$AWGCTL" list | grep -q awgtm2 && fail "awgtm2 still listed"
$MGRTOOL "$SOCK" expect ManagerStopping 20 >"$LOGDIR/stopping.out" 2>&1 &
ev=$!
wait_until 5 "event listener" grep -q subscribed "$LOGDIR/stopping.out"
$MGRTOOL "$SOCK" call Quit stop_tunnels=1 | grep -q '"already_quit": false' || fail "Quit"
wait "$ev" || { cat "$LOGDIR/stopping.out" >&2; fail "no ManagerStopping event"; }
wait_until 25 "manager exit" sh -c "! kill -0 $MGR_PID"
ip -n "$NS_C" link show awgtm1 >/dev/null 2>&1 && fail "Quit left awgtm1 up"
ok "deleted; ManagerStopping sent; Quit stopped the tunnels and the manager"

check "without --foreground: detaches once ready"
ip netns exec "$NS_C" "$AWG_MANAGER" --state-dir "$STATE" --run-dir "$RUN" --policy "$POLICY" \
	--tunnel-bin "$AWG_TUNNEL" || fail "awg-manager (detached) exited non-zero"
MGR_PID=$(pgrep -f -- "--state-dir $STATE" | head -1)
[ -n "$MGR_PID" ] || fail "no detached manager"
_PIDS+=("$MGR_PID")
$MGRTOOL "$SOCK" call Role >/dev/null || fail "detached manager does not answer"
state_is awgtm1 2 || fail "Quit with stop_tunnels should have disabled awgtm1"
ip netns exec "$NS_C" "$AWG_MANAGER" --foreground --state-dir "$STATE" --run-dir "$RUN" \
	--policy "$POLICY" 2>"$LOGDIR/second.err" && fail "a second manager started"
grep -q "another awg-manager is running" "$LOGDIR/second.err" || fail "second manager: $(cat "$LOGDIR/second.err")"
stop_manager
ok "detached manager answered; a second one was refused"
