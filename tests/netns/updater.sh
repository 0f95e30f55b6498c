#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# awg-manager's signed updater end to end, against a local HTTPS server on 127.0.0.1
# (updserver.py, a test CA made here with the openssl CLI) and lists signed with Debian's
# signify-openbsd. The manager runs in the root namespace with an empty store (no tunnels).
#   - without a PublicKey updates are disabled (UpdateState 2);
#   - a good update is found among older, equal and other-architecture packages, downloaded,
#     verified and handed to the install command (updinstall.sh), which receives exactly the
#     package's bytes through /proc/self/fd/N; progress reaches admins only; UpdateState 1;
#   - files in STATE/updates replaced (in place and by rename) while the installer waits do
#     not change what it reads; a second Update meanwhile is refused as busy; during a slow
#     download a file renamed over the download is ignored and bytes overwritten in place
#     fail the hash;
#   - refused with a sensible sentence, nothing installed and STATE/updates empty: wrong key,
#     bad signature, tampered list, hash mismatch, truncated download, oversized list and
#     package, older/equal version, wrong architecture, untrusted certificate, stalls (list
#     and package, Timeout = 2), redirects to http:// (list and package), an http:// URL;
#   - afterwards `awgctl update` still installs, and the manager holds no extra descriptor;
#   - the periodic check (FirstCheckDelay = 0) finds the update and installs nothing; an
#     Update during a check is carried out by that check's job instead of being refused.
set -euo pipefail
TEST=updater
. "$(dirname "$0")/lib.sh"
netns_init
find_bins
for t in signify-openbsd openssl b2sum; do
	command -v "$t" >/dev/null || { echo "[$TEST] skipped: needs $t"; exit 77; }
done
"$AWG_MANAGER" --help 2>&1 | grep -q -- --updates || fail "$AWG_MANAGER has no --updates option"
MGRTOOL="python3 $NETNS_DIR/mgrtool.py"
INSTALL=$NETNS_DIR/updinstall.sh

# The installed version is the project's; the test's packages are placed around it.
VER=$(sed -n "s/^ *version: '\([0-9.]*\)',.*/\1/p" "$NETNS_DIR/../../meson.build" | head -1)
[ -n "$VER" ] || fail "no project version in meson.build"
IFS=. read -r V1 V2 V3 <<<"$VER"
NEWER=$V1.$((V2 + 1)).0
if [ "${V3:-0}" -gt 0 ]; then OLDER=$V1.$V2.$((V3 - 1));
elif [ "$V2" -gt 0 ]; then OLDER=$V1.$((V2 - 1)).99;
else OLDER=$((V1 - 1)).99.99; fi
PKG=awg-suite-amd64-$NEWER.deb

W=$LOGDIR/w			# CA, keys, server root (readable: the fetch may run unprivileged)
WWW=$W/www
REC=$LOGDIR/rec			# what the install command received
STATE=$LOGDIR/state RUN=$LOGDIR/run POLICY=$LOGDIR/policy.conf
SOCK=$RUN/manager.sock
UPDCONF=$W/updates.conf
mkdir -m 755 "$W" "$WWW"
printf 'LimitedOperatorUI = 1\n' >"$POLICY"
chmod 644 "$POLICY"

# ---- a test CA, a server certificate for 127.0.0.1, and an unrelated CA ----
pki() {
	local d=$W
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$d/ca.key" -out "$d/ca.pem" -subj /CN=awgt-updater-ca \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$d/other.key" -out "$d/other-ca.pem" -subj /CN=awgt-updater-ca \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/srv.key" -out "$d/srv.csr" -subj /CN=127.0.0.1
	printf 'subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n' \
		>"$d/srv.ext"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -out "$d/srv.pem" -extfile "$d/srv.ext"
	chmod 644 "$d"/*.pem
}
pki >"$LOGDIR/pki.log" 2>&1 || { cat "$LOGDIR/pki.log" >&2; fail "openssl"; }

# ---- signify keys: K1 is trusted, K2 is not ----
for k in k1 k2; do
	signify-openbsd -G -n -p "$W/$k.pub" -s "$W/$k.sec" >/dev/null || fail "signify -G"
done
K1=$(sed -n 2p "$W/k1.pub")

# ---- the server's directories, one per case ----
# sign DIR KEY FILE...: DIR/latest.sig over `b2sum -l 256 FILE...` (two spaces, as b2sum prints).
sign() {
	local dir=$1 key=$2
	shift 2
	(cd "$dir" && b2sum -l 256 "$@" >list &&
		signify-openbsd -S -e -s "$W/$key.sec" -m list -x latest.sig) || fail "signing in $dir"
}
# casedir NAME FILE...: a directory with copies of the given packages from $WWW/pkgs.
casedir() {
	local d=$WWW/$1 f
	shift
	mkdir -p "$d"
	for f in "$@"; do cp "$WWW/pkgs/$f" "$d/"; done
}
mkdir -p "$WWW/pkgs"
ALL=("$PKG" "awg-suite-amd64-$OLDER.deb" "awg-suite-amd64-$VER.deb" "awg-suite-arm64-$((V1 + 1)).0.0.deb")
head -c 307201 /dev/urandom >"$WWW/pkgs/$PKG"
for f in "${ALL[@]:1}"; do head -c 4096 /dev/urandom >"$WWW/pkgs/$f"; done
PKG_SIZE=$(stat -c %s "$WWW/pkgs/$PKG")

casedir good "${ALL[@]}"
sign "$WWW/good" k1 "${ALL[@]}"
casedir wrongkey "${ALL[@]}"
sign "$WWW/wrongkey" k2 "${ALL[@]}"
# bad signature: one bit of the Ed25519 signature flipped, the list unchanged
casedir badsig "${ALL[@]}"
python3 - "$WWW/good/latest.sig" "$WWW/badsig/latest.sig" <<'EOF'
import base64, sys
lines = open(sys.argv[1], "rb").read().split(b"\n", 2)
sig = bytearray(base64.b64decode(lines[1]))
sig[40] ^= 0x10
lines[1] = base64.b64encode(bytes(sig))
open(sys.argv[2], "wb").write(b"\n".join(lines))
EOF
# tampered list: the signed list edited afterwards to name another package's hash, which is
# then served (a manager that skipped the signature would install it)
casedir tampered "${ALL[@]}"
head -c "$PKG_SIZE" /dev/urandom >"$WWW/tampered/$PKG"
EVIL=$(b2sum -l 256 "$WWW/tampered/$PKG" | cut -d' ' -f1)
GOODH=$(b2sum -l 256 "$WWW/good/$PKG" | cut -d' ' -f1)
sed "s/$GOODH/$EVIL/" "$WWW/good/latest.sig" >"$WWW/tampered/latest.sig"
cmp -s "$WWW/good/latest.sig" "$WWW/tampered/latest.sig" && fail "tampering did not change the list"
# hash mismatch: correctly signed, but the package served differs in one byte
casedir hash "${ALL[@]}"
sign "$WWW/hash" k1 "${ALL[@]}"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[1000]^=1; open(p,"wb").write(b)' \
	"$WWW/hash/$PKG"
# versions and architectures: nothing newer for amd64
casedir older "awg-suite-amd64-$OLDER.deb"
sign "$WWW/older" k1 "awg-suite-amd64-$OLDER.deb"
casedir equal "awg-suite-amd64-$VER.deb"
sign "$WWW/equal" k1 "awg-suite-amd64-$VER.deb"
casedir arch "${ALL[3]}" "awg-suite-amd64-$OLDER.deb"
sign "$WWW/arch" k1 "${ALL[3]}" "awg-suite-amd64-$OLDER.deb"
# an oversized list: validly signed, 600 KiB (the cap is 512 KiB)
mkdir -p "$WWW/biglist"
cp "$WWW/pkgs/$PKG" "$WWW/biglist/"
python3 - "$WWW/biglist" <<'EOF'
import hashlib, sys
with open(sys.argv[1] + "/list", "w") as f:
    for i in range(6400):
        f.write(hashlib.blake2b(str(i).encode(), digest_size=32).hexdigest() +
                f"  awg-suite-arm64-0.0.{i}.deb\n")
EOF
cat "$WWW/good/list" >>"$WWW/biglist/list"
(cd "$WWW/biglist" && signify-openbsd -S -e -s "$W/k1.sec" -m list -x latest.sig) || fail "sign biglist"
[ "$(stat -c %s "$WWW/biglist/latest.sig")" -gt $((512 * 1024)) ] || fail "biglist is not big"
# The cases served by a misbehaving server use copies of good/.
for c in truncated bigpkg bigpkglen stallpkg stalllist redirlist redirpkg slow; do
	cp -r "$WWW/good" "$WWW/$c"
done
cat >"$WWW/.modes" <<EOF
/truncated/$PKG truncate
/bigpkg/$PKG oversized $((200 << 20))
/bigpkglen/$PKG bigheader $((200 << 20))
/stallpkg/$PKG stall
/stalllist/latest.sig stall
/redirlist/latest.sig redirect
/redirpkg/$PKG redirect
/slow/$PKG slow
EOF
chmod -R a+rX "$W"

# ---- the server ----
python3 "$NETNS_DIR/updserver.py" "$WWW" "$W/srv.pem" "$W/srv.key" \
	</dev/null >"$LOGDIR/server.log" 2>&1 &
_PIDS+=("$!")
_LOGS+=("$LOGDIR/server.log")
wait_until 10 "update server" grep -q '^listening' "$LOGDIR/server.log"
HTTPS=$(sed -n 's/^https //p' "$LOGDIR/server.log")
HTTP=$(sed -n 's/^http //p' "$LOGDIR/server.log")
curl -sf --cacert "$W/ca.pem" "https://127.0.0.1:$HTTPS/good/latest.sig" | cmp -s - "$WWW/good/latest.sig" ||
	fail "the test server does not serve good/latest.sig to curl"
signify-openbsd -V -e -p "$W/k1.pub" -x "$WWW/good/latest.sig" -m /dev/null >/dev/null ||
	fail "signify does not verify good/latest.sig"
log "server on https://127.0.0.1:$HTTPS (http $HTTP); installed version $VER, update $NEWER"

# conf URL [KEY [CAFILE [TIMEOUT]]]: writes the updater configuration ("-" omits a line).
conf() {
	local url=$1 key=${2:-$K1} ca=${3:-$W/ca.pem} timeout=${4:-5}
	{
		echo "# updater test: $url"
		echo "URL = $url"
		[ "$key" = - ] || echo "PublicKey = $key"
		[ "$ca" = - ] || echo "CAFile = $ca"
		echo "InstallCommand = $INSTALL $REC"
		echo "Arch = amd64"
		echo "Timeout = $timeout"
		echo "FirstCheckDelay = 3600"
		echo "CheckInterval = 3600"
	} >"$UPDCONF"
	chmod 644 "$UPDCONF"
}
url() { echo "https://127.0.0.1:$HTTPS/$1/latest.sig"; }

# ---- the manager and an operator ----
for g in awg-admin awg-operator; do
	if ! getent group "$g" >/dev/null; then
		groupadd --system "$g"
		_CLEANUP_HOOKS+=("groupdel $g")
	fi
done
U_OP=awgt-updop
userdel "$U_OP" 2>/dev/null || true
useradd --system --no-create-home --shell /usr/sbin/nologin -G awg-operator "$U_OP"
_CLEANUP_HOOKS=("userdel $U_OP" "${_CLEANUP_HOOKS[@]}")

conf "$(url good)" -
mkdir -m 700 "$STATE"
# start_manager: awg-manager on this test's state, socket, policy and updates.conf.
start_manager() {
	"$AWG_MANAGER" --foreground --state-dir "$STATE" --run-dir "$RUN" --policy "$POLICY" \
		--tunnel-bin "$AWG_TUNNEL" --updates "$UPDCONF" </dev/null >>"$LOGDIR/manager.log" 2>&1 &
	MGR_PID=$!
	_PIDS+=("$MGR_PID")
	wait_until 10 "manager socket" test -S "$SOCK"
	wait_until 10 "manager answers" $MGRTOOL "$SOCK" call Role
}
stop_manager() {
	kill -TERM "$MGR_PID"
	wait "$MGR_PID" 2>/dev/null || true
}
_LOGS+=("$LOGDIR/manager.log")
start_manager

update_state() { $MGRTOOL "$SOCK" call UpdateState | python3 -c 'import json,sys; print(json.load(sys.stdin)["update_state"])'; }
updates_left() { ls -A "$STATE/updates" 2>/dev/null || true; }
# mgr_fds: the manager's open descriptors (a leak check across the cases).
mgr_fds() { find "/proc/$MGR_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
reset_rec() { rm -rf "$REC"; mkdir -m 755 "$REC"; }
# served PATH_REGEX: how many requests for it the server has logged since the last mark.
mark() { SRV_MARK=$(wc -l <"$LOGDIR/server.log"); }
served() { tail -n +"$((SRV_MARK + 1))" "$LOGDIR/server.log" | grep -cE "^GET $1 " || true; }

check "without a PublicKey updates are disabled"
assert_eq "$(update_state)" 2 "UpdateState without a key"
reset_rec
out=$($MGRTOOL "$SOCK" update-run 10) && fail "Update without a key succeeded: $out"
printf '%s\n' "$out" | grep -qiE '^error: .*(disabled|key)' || fail "Update without a key: $out"
[ -e "$REC/args" ] && fail "the installer ran without a key"
ok "refused: $(printf '%s\n' "$out" | sed -n 's/^error: //p')"

check "an operator may not update and gets no progress"
out=$(runuser -u "$U_OP" -- $MGRTOOL "$SOCK" call Update 2>&1) && fail "operator Update accepted: $out"
printf '%s\n' "$out" | grep -q "not allowed" || fail "operator Update: $out"
runuser -u "$U_OP" -- $MGRTOOL "$SOCK" expect UpdateProgress 300 >"$LOGDIR/op-events.out" 2>&1 &
OP_PID=$!
_PIDS+=("$OP_PID")
wait_until 5 "operator subscribed" grep -q subscribed "$LOGDIR/op-events.out"
ok "operator refused: $(printf '%s\n' "$out" | tr -d '\n' | cut -c1-120)"

check "a good update: found, downloaded, verified, installed"
conf "$(url good)"
reset_rec
mark
$MGRTOOL "$SOCK" update-run 30 >"$LOGDIR/good.out" 2>&1 ||
	{ cat "$LOGDIR/good.out" >&2; fail "the good update failed"; }
cat "$LOGDIR/good.out"
[ -f "$REC/received" ] || fail "the install command received nothing"
cmp "$REC/received" "$WWW/good/$PKG" || fail "the installer received other bytes than $PKG"
[ "$(head -1 "$REC/args")" = "$REC" ] || fail "install command arguments: $(cat "$REC/args")"
last=$(tail -1 "$REC/args")
[[ $last =~ ^/proc/self/fd/[0-9]+$ ]] || fail "the package argument is not /proc/self/fd/N: $last"
assert_eq "$(wc -l <"$REC/args")" 2 "install command argument lines"
log "installer ran as uid $(cat "$REC/uid"); $last -> $(cat "$REC/target")"
python3 - "$LOGDIR/good.out" "$PKG_SIZE" <<'EOF' || fail "UpdateProgress events"
import json, sys
evs = [json.loads(l[9:]) for l in open(sys.argv[1]) if l.startswith("progress ")]
size = int(sys.argv[2])
assert evs, "no UpdateProgress"
assert all(not e["error"] for e in evs), "an error event in a good update"
assert evs[-1]["complete"] and not any(e["complete"] for e in evs[:-1]), "complete only last"
got = [e for e in evs if e["total"]]
assert got and all(e["total"] == size for e in got), f"total is not {size}: {got[:3]}"
assert max(e["downloaded"] for e in evs) == size, "downloaded never reached the size"
assert all(a["downloaded"] <= b["downloaded"] for a, b in zip(got, got[1:])), "downloaded went back"
print(f"{len(evs)} events; activities: {sorted({e['activity'] for e in evs})}")
EOF
assert_eq "$(served "/good/$PKG")" 1 "downloads of $PKG"
assert_eq "$(served "/good/awg-suite-.*")" 1 "package downloads in all"
assert_eq "$(updates_left)" "" "files left in STATE/updates"
assert_eq "$(stat -c %a "$STATE/updates")" 700 "mode of STATE/updates"
assert_eq "$(update_state)" 1 "UpdateState after the check found $NEWER"
AWG_MANAGER_SOCKET=$SOCK "$AWGCTL" update --check | grep -q "update available" ||
	fail "awgctl update --check does not say 'update available'"
FDS_BEFORE=$(mgr_fds)
ok "$PKG ($PKG_SIZE bytes) installed byte for byte through $last"

check "the downloaded file replaced while the installer runs; a second Update meanwhile"
reset_rec
: >"$REC/hold"
$MGRTOOL "$SOCK" update-run 40 >"$LOGDIR/race.out" 2>&1 &
race=$!
wait_until 20 "the installer waiting" test -e "$REC/ready"
out=$($MGRTOOL "$SOCK" call Update) && fail "a second Update was accepted: $out"
printf '%s\n' "$out" | grep -qiE 'busy|progress|already|running' || fail "second Update: $out"
ok "second Update refused: $out"
ipid=$(cat "$REC/pid")
python3 - "$STATE/updates" "$ipid" "$(tail -1 "$REC/args")" <<'EOF' >"$LOGDIR/racer.out" 2>&1 || true
# The racer (root): every file in STATE/updates and the file behind the installer's fd is
# overwritten in place, then replaced by rename.
import os, sys
updates, ipid, arg = sys.argv[1:]
fdpath = f"/proc/{ipid}/fd/{arg.rsplit('/', 1)[1]}"
targets = [os.path.join(updates, n) for n in os.listdir(updates)] if os.path.isdir(updates) else []
try:
    t = os.readlink(fdpath)
    print(f"installer fd -> {t}")
    if t.startswith("/") and not t.endswith(" (deleted)") and t not in targets:
        targets.append(t)
except OSError as e:
    print(f"installer fd: {e}")
print(f"{len(targets)} target(s): {targets}")
for t in targets:
    try:
        st = os.lstat(t)
        with open(t, "r+b") as f:
            f.write(b"X" * st.st_size)
        print(f"overwrote {t} in place ({st.st_size} bytes)")
    except OSError as e:
        print(f"in-place write to {t}: {e}")
    try:
        tmp = t + ".evil"
        with open(tmp, "wb") as f:
            f.write(b"EVIL" * 1024)
        os.replace(tmp, t)
        print(f"replaced {t} by rename")
    except OSError as e:
        print(f"rename over {t}: {e}")
EOF
sed 's/^/  racer: /' "$LOGDIR/racer.out"
: >"$REC/go"
wait "$race" || { cat "$LOGDIR/race.out" >&2; fail "the raced update did not complete"; }
cmp "$REC/received" "$WWW/good/$PKG" || fail "the racer changed what the installer received"
rm -f "$STATE/updates"/*.evil 2>/dev/null || true
assert_eq "$(updates_left)" "" "files left in STATE/updates"
ok "the installer read the verified bytes despite the racer"

check "the download file replaced or overwritten while it downloads (slow server)"
# race_download rename|inplace: waits for the download file in STATE/updates to have data,
# then renames another file over it or overwrites its bytes in place.
race_download() {
	python3 - "$STATE/updates" "$1" <<'EOF'
import os, re, sys, time
d, mode = sys.argv[1:]
deadline = time.monotonic() + 15
while time.monotonic() < deadline:
    names = [n for n in os.listdir(d) if re.fullmatch(r"[0-9a-f]{64}", n)] if os.path.isdir(d) else []
    for n in names:
        p = os.path.join(d, n)
        try:
            size = os.path.getsize(p)
        except OSError:
            continue
        if not size:
            continue
        if mode == "inplace":
            with open(p, "r+b") as f:
                f.write(b"X" * size)
            print(f"overwrote the first {size} bytes of {n[:8]}... in place")
        else:
            with open(p + ".evil", "wb") as f:
                f.write(b"EVIL" * 1024)
            os.replace(p + ".evil", p)
            print(f"renamed another file over {n[:8]}... at {size} bytes")
        sys.exit(0)
    time.sleep(0.005)
print("no download file with data appeared")
sys.exit(1)
EOF
}
conf "$(url slow)"
for how in rename inplace; do
	reset_rec
	rc=0
	$MGRTOOL "$SOCK" update-run 30 >"$LOGDIR/race-$how.out" 2>&1 &
	race=$!
	race_download $how >"$LOGDIR/racer-$how.out" 2>&1 ||
		{ cat "$LOGDIR/racer-$how.out" >&2; fail "racer ($how)"; }
	wait "$race" || rc=$?
	log "racer ($how): $(cat "$LOGDIR/racer-$how.out"); update exit $rc: $(tail -1 "$LOGDIR/race-$how.out")"
	if [ $how = rename ]; then
		# The manager writes through its own descriptor: the renamed file is not the download.
		[ "$rc" -eq 0 ] || fail "rename during the download: the update failed"
		cmp "$REC/received" "$WWW/good/$PKG" || fail "rename during the download changed the package"
	else
		# The bytes on disk changed: the hash of the sealed copy must catch it.
		[ "$rc" -eq 1 ] || fail "in-place overwrite during the download: exit $rc, expected a refusal"
		grep -qi '^error: .*hash' "$LOGDIR/race-$how.out" || fail "in-place overwrite: not a hash error"
		[ -e "$REC/args" ] && fail "in-place overwrite: the install command ran"
	fi
	assert_eq "$(updates_left)" "" "files left in STATE/updates after the $how race"
done
ok "a renamed file is ignored; overwritten bytes fail the hash; nothing else is installed"

# refused NAME REGEX [PACKAGE_FETCHES]: Update with the current conf must end with an error
# event whose sentence matches REGEX; nothing installed, STATE/updates empty; if given, the
# number of package requests the server saw.
refused() {
	local name=$1 re=$2 fetches=${3:-} out rc=0 err
	reset_rec
	mark
	out=$($MGRTOOL "$SOCK" update-run 30 2>&1) || rc=$?
	printf '%s\n' "$out" >"$LOGDIR/case-$(printf '%s' "$name" | tr -c 'a-z0-9' -).out"
	err=$(printf '%s\n' "$out" | sed -n 's/^error: //p' | head -1)
	[ "$rc" -eq 1 ] || fail "$name: expected an error event (exit 1), got exit $rc: $out"
	printf '%s\n' "$err" | grep -qiE "$re" || fail "$name: the reason '$err' does not match /$re/"
	[ -e "$REC/args" ] && fail "$name: the install command ran ($(tr '\n' ' ' <"$REC/args"))"
	[ -z "$(updates_left)" ] || fail "$name: left in STATE/updates: $(updates_left)"
	if [ -n "$fetches" ]; then
		[ "$(served "/[a-z]+/awg-suite-.*")" -eq "$fetches" ] ||
			fail "$name: $(served "/[a-z]+/awg-suite-.*") package requests, expected $fetches"
	fi
	ok "$name: $err"
}

check "refusals: signatures and the list"
conf "$(url wrongkey)"
refused "wrong key" 'key' 0
conf "$(url badsig)"
refused "bad signature" 'signature' 0
conf "$(url tampered)"
refused "tampered list" 'signature' 0
conf "$(url biglist)"
refused "oversized list" 'large|size|exceed|limit|big|long' 0

check "refusals: versions and architecture"
conf "$(url older)"
refused "older version only" 'no update|not found|no newer|up to date|newest|latest' 0
conf "$(url equal)"
refused "equal version only" 'no update|not found|no newer|up to date|newest|latest' 0
conf "$(url arch)"
refused "other architecture only" 'no update|not found|no newer|up to date|newest|latest|arch' 0

check "refusals: the package download"
conf "$(url hash)"
refused "hash mismatch" 'hash' 1
conf "$(url truncated)"
refused "truncated download" 'partial|truncat|incomplete|short|ended|closed|early|length' 1
conf "$(url bigpkg)"
refused "oversized package (no length)" 'large|size|exceed|limit|big' 1
conf "$(url bigpkglen)"
refused "oversized package (announced)" 'large|size|exceed|limit|big' 1
conf "$(url stallpkg)" "$K1" "$W/ca.pem" 2
t0=$(date +%s)
refused "stalled package" 'time|stall|progress|slow' 1
assert_le $(( $(date +%s) - t0 )) 10 "seconds for the stalled package (Timeout = 2)"

check "refusals: transport"
conf "$(url stalllist)" "$K1" "$W/ca.pem" 2
refused "stalled list" 'time|stall|progress|slow' 0
conf "$(url good)" "$K1" "$W/other-ca.pem"
refused "untrusted certificate" 'certif|tls|ssl|verif|trust|peer' 0
conf "$(url redirlist)"
refused "list redirected to http" 'redirect|http|protocol|insecure|scheme' 0
assert_eq "$(grep -c "^GET /redirlist/latest.sig normal 200 http " "$LOGDIR/server.log" || true)" 0 \
	"requests that followed the redirect to http"
conf "$(url redirpkg)"
refused "package redirected to http" 'redirect|http|protocol|insecure|scheme' 1
assert_eq "$(grep -c "^GET /redirpkg/$PKG normal 200 http " "$LOGDIR/server.log" || true)" 0 \
	"package requests that followed the redirect to http"
conf "http://127.0.0.1:$HTTP/good/latest.sig"
refused "http:// URL without AllowInsecure" 'https|insecure|protocol|scheme|http' 0
assert_eq "$(served '/good/latest.sig')" 0 "requests to the plain HTTP server"

check "after all that, the good update still works (awgctl update); the operator saw no progress"
conf "$(url good)"
reset_rec
AWG_MANAGER_SOCKET=$SOCK timeout 30 "$AWGCTL" update >"$LOGDIR/good2.out" 2>&1 ||
	{ cat "$LOGDIR/good2.out" >&2; fail "the second good update (awgctl update) failed"; }
grep -q "Update complete" "$LOGDIR/good2.out" || fail "awgctl update: $(cat "$LOGDIR/good2.out")"
cmp "$REC/received" "$WWW/good/$PKG" || fail "second good update: other bytes"
assert_eq "$(updates_left)" "" "files left in STATE/updates"
kill -0 "$OP_PID" 2>/dev/null || fail "operator listener ended early: $(cat "$LOGDIR/op-events.out")"
grep -q "got UpdateProgress" "$LOGDIR/op-events.out" && fail "an operator received UpdateProgress"
kill "$OP_PID" 2>/dev/null || true
kill -0 "$MGR_PID" || fail "the manager died"
assert_le "$(mgr_fds)" "$FDS_BEFORE" "manager descriptors after all cases (after the first update: $FDS_BEFORE)"
for fd in "/proc/$MGR_PID/fd"/*; do
	case $(readlink "$fd") in
	*memfd:awg-suite-update*) fail "the manager still holds an update memfd ($fd)" ;;
	esac
done
ok "good again; no UpdateProgress reached the operator; no descriptor leaked"

check "the periodic check: FirstCheckDelay = 0 finds the update at start and installs nothing"
stop_manager
conf "$(url good)"
sed -i 's/^FirstCheckDelay = .*/FirstCheckDelay = 0/' "$UPDCONF"
reset_rec
start_manager
state_found() { [ "$(update_state)" = 1 ]; }
wait_until 10 "UpdateState 1 from the periodic check" state_found
grep -q "update found: version $NEWER" "$LOGDIR/manager.log" || fail "no 'update found' log line"
sleep 0.5
[ -e "$REC/args" ] && fail "a periodic check installed something"
assert_eq "$(updates_left)" "" "files left in STATE/updates after the check"
ok "found by the periodic check, nothing installed"

check "Update during a periodic check rides along instead of being refused as busy"
stop_manager
cp -r "$WWW/good" "$WWW/slowlist"
chmod -R a+rX "$WWW/slowlist"
echo "/slowlist/latest.sig slow" >>"$WWW/.modes"
conf "$(url slowlist)"
sed -i 's/^FirstCheckDelay = .*/FirstCheckDelay = 0/' "$UPDCONF"
reset_rec
mark
start_manager
list_asked() { [ "$(served '/slowlist/latest.sig')" -ge 1 ]; }
wait_until 5 "the periodic check asks for the slow list" list_asked
$MGRTOOL "$SOCK" update-run 30 >"$LOGDIR/ride.out" 2>&1 ||
	{ cat "$LOGDIR/ride.out" >&2; fail "Update during the check failed"; }
cmp "$REC/received" "$WWW/good/$PKG" || fail "the ride-along update installed other bytes"
assert_eq "$(served '/slowlist/latest.sig')" 1 "list requests (the check's one, shared)"
assert_eq "$(updates_left)" "" "files left in STATE/updates"
ok "installed on the back of the running check"
