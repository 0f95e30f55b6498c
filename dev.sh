#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One entry point for set-up, build, the main job and the test suite (see README.md).
#
#   ./dev.sh run     install Debian dependencies, build, run the main job
#   ./dev.sh test    install Debian dependencies, build (plain + ASan/UBSan + fuzz), run all tests
#   ./dev.sh deps    only install the Debian dependencies
#   ./dev.sh build   only build ./build
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
	build-essential meson ninja-build pkg-config
	libssl-dev libsodium-dev libmnl-dev libnftables-dev libcurl4-openssl-dev libzip-dev libseccomp-dev libcap-dev libsystemd-dev
	clang llvm libclang-rt-14-dev
	wireguard-tools wireguard-go iproute2 iputils-ping iperf3 tcpdump python3 procps signify-openbsd openssl
	dbus-daemon python3-dbus python3-gi nftables
)

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

deps() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "==> installing Debian packages: ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
}

# setup_dir DIR [meson options...]: configure DIR once, reconfigure if options changed.
setup_dir() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

build() {
	echo "==> building ./build (gcc, hardened)"
	setup_dir build
	ninja -C build >/dev/null
}

build_san() {
	echo "==> building ./build-san (clang, ASan+UBSan, libFuzzer harnesses)"
	if [ ! -f build-san/build.ninja ]; then
		CC=clang meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false \
			-Dfuzz=true >/dev/null
	fi
	ninja -C build-san >/dev/null
}

# run_suite DIR SUITE...: runs meson tests in DIR, keeps the JSON log for the summary.
logs=()
run_suite() {
	local dir=$1 log
	shift
	local args=()
	for s in "$@"; do args+=(--suite "$s"); done
	log=$(mktemp)
	echo "==> meson test -C $dir ${args[*]}"
	meson test -C "$dir" "${args[@]}" --print-errorlogs --num-processes 2 >"$log" 2>&1 || true
	grep -E '^ *[0-9]+/[0-9]+ ' "$log" | sed 's/^/  /' || true
	rm -f "$log"
	cp "$dir/meson-logs/testlog.json" "$dir/meson-logs/testlog-$(IFS=-; echo "$*").json"
	logs+=("$dir/meson-logs/testlog-$(IFS=-; echo "$*").json")
}

run_tests() {
	run_suite build unit
	# Real TUN devices and network namespaces (root; the scripts skip without it).
	run_suite build netns
	# ASan+UBSan run of the unit tests and one pass over every fuzz corpus.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		run_suite build-san unit fuzz
	python3 tests/summarize.py "${logs[@]}"
}

case "${1:-}" in
deps) deps ;;
build) deps && build ;;
run)
	deps
	build
	echo "==> in-process protocol check: ./build/awg-demo --quiet --packets 200"
	./build/awg-demo --quiet --packets 200
	echo "==> main job: an AmneziaWG tunnel between two network namespaces"
	as_root scripts/demo-netns.sh build
	;;
test)
	deps
	build
	build_san
	run_tests
	;;
*)
	sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
