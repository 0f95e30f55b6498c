#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The install command of tests/netns/updater.sh: records what awg-manager's updater hands it.
#
#   updinstall.sh OUTDIR PACKAGE        (the manager appends PACKAGE, a /proc/self/fd/N path)
#
# Writes OUTDIR/args (one argument a line), OUTDIR/target (where PACKAGE points), OUTDIR/uid
# and, last, OUTDIR/received (the bytes read through PACKAGE; written under a temporary name
# and renamed, so that its presence means the read finished). If OUTDIR/hold exists it first
# creates OUTDIR/ready and waits (up to 20 s) for OUTDIR/go, so that the test can race it.
set -u
out=$1
pkg=${!#}
printf '%s\n' "$@" >"$out/args"
readlink "$pkg" >"$out/target" 2>&1
id -u >"$out/uid"
echo $$ >"$out/pid"
if [ -e "$out/hold" ]; then
	: >"$out/ready"
	for _ in $(seq 200); do
		[ -e "$out/go" ] && break
		sleep 0.1
	done
fi
cat "$pkg" >"$out/received.tmp" || exit 1
mv "$out/received.tmp" "$out/received"
