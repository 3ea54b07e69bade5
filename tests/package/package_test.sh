#!/usr/bin/env bash
# The Debian packages as a user installs them: build ctsqs_*.deb and ctsqs-dev_*.deb from a clean
# clone of this checkout's HEAD (with the shared ccache, so mostly cache hits), install them with
# apt-get, then: ctsqs --version, check-config on the shipped example, the man pages render, bash
# completion completes, systemd-analyze verify and security (offline: this machine does not run
# systemd as PID 1, so the unit is checked but not started), the find_package(ctsqs) consumer
# builds and runs against /usr, and dpkg -r removes every file it installed.
# Installs system-wide: needs root; everything is purged again on exit, also on failure.
# Exit 77 (skipped) without dpkg/apt-get, without root, when ctsqs is already installed here, or
# with CTSQS_SKIP_PACKAGE_TEST set.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
skip() { echo "SKIPPED: $*"; exit 77; }
[ -z "${CTSQS_SKIP_PACKAGE_TEST:-}" ] || skip "CTSQS_SKIP_PACKAGE_TEST is set"
command -v dpkg >/dev/null && command -v apt-get >/dev/null || skip "dpkg or apt-get not found"
[ "$(id -u)" = 0 ] || skip "needs root: the packages are installed system-wide"
for p in ctsqs ctsqs-dev; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    skip "$p is already installed on this machine: not touching it"
  fi
done

tmp=$(mktemp -d /tmp/ctsqs-package-test.XXXXXX)
installed=0
cleanup() {
  local rc=$?
  if [ "$installed" = 1 ]; then
    DEBIAN_FRONTEND=noninteractive dpkg -P ctsqs-dev ctsqs >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
t0=$(date +%s)
step() { echo "== [$(( $(date +%s) - t0 )) s] $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

step "clean clone of $(git -C "$src" rev-parse --short HEAD)"
git clone -q --no-local "$src" "$tmp/src"
build=$tmp/src/build/release  # the release preset's layout: the same relative paths, so ccache hits
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ctsqs-ccache} CCACHE_BASEDIR=$tmp/src

step "build the packages (cmake --build ... --target package)"
cmake -S "$tmp/src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DCTSQS_BUILD_TESTS=OFF -DCTSQS_BUILD_EXAMPLES=OFF -DCTSQS_BUILD_BENCH=OFF > "$tmp/configure.log" ||
  { cat "$tmp/configure.log"; fail "configure"; }
cmake --build "$build" -j "$(nproc)" --target package > "$tmp/build.log" 2>&1 ||
  { tail -40 "$tmp/build.log"; fail "build"; }
version=$(sed -n 's/^project(ctsqs VERSION \([0-9.]*\).*/\1/p' "$tmp/src/CMakeLists.txt")
debs=("$build"/ctsqs_"$version"_*.deb "$build"/ctsqs-dev_"$version"_*.deb)
for d in "${debs[@]}"; do [ -f "$d" ] || fail "no package $d"; done
dpkg-deb -f "${debs[0]}" Depends | grep -q libssl3 || fail "ctsqs Depends lacks the shared libraries (dpkg-shlibdeps)"

step "apt-get install ${debs[*]##*/}"
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[@]}" > "$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log"; fail "apt-get install"; }
dpkg -L ctsqs ctsqs-dev | sort -u > "$tmp/files.txt"

step "ctsqs --version, check-config on the shipped example"
[ "$(command -v ctsqs)" = /usr/bin/ctsqs ] || fail "ctsqs is not /usr/bin/ctsqs"
[ "$(ctsqs --version)" = "ctsqs $version" ] || fail "ctsqs --version says '$(ctsqs --version)'"
ctsqs check-config /usr/share/doc/ctsqs/examples/collector.json > "$tmp/check.txt" ||
  { cat "$tmp/check.txt"; fail "check-config on the shipped example"; }
grep -q "devo_http region eu domain example_domain (token redacted)" "$tmp/check.txt" || fail "check-config summary"
! grep -q "example-http-token" "$tmp/check.txt" || fail "check-config printed the token"

step "man pages render (one per command)"
MANWIDTH=100 man ctsqs > "$tmp/man.txt" 2>&1 || { cat "$tmp/man.txt"; fail "man ctsqs"; }
grep -q "ctsqs-run" "$tmp/man.txt" || fail "man ctsqs does not list ctsqs-run"
for cmd in $(ctsqs --help | awk '/^Subcommands:/ {s = 1; next} s && NF {print $1}'); do
  MANWIDTH=100 man "ctsqs-$cmd" > "$tmp/man-$cmd.txt" 2>&1 || fail "man ctsqs-$cmd"
  grep -q "ctsqs $cmd" "$tmp/man-$cmd.txt" || fail "man ctsqs-$cmd has no synopsis"
done
grep -q -- "--config" "$tmp/man-run.txt" || fail "man ctsqs-run lacks --config"

step "bash completion"
got=$(bash -c 'source /usr/share/bash-completion/completions/ctsqs
  COMP_WORDS=(ctsqs dr); COMP_CWORD=1; _ctsqs; echo "${COMPREPLY[*]}"
  COMP_WORDS=(ctsqs run --con); COMP_CWORD=2; _ctsqs; echo "${COMPREPLY[*]}"')
[ "$got" = $'drain\n--config' ] || fail "completion gave '$got'"

step "systemd unit: verify and security (offline; no systemd as PID 1 here)"
unit=/usr/lib/systemd/system/ctsqs@.service
[ -f "$unit" ] || fail "no $unit"
cp "$unit" "$tmp/ctsqs@example.service"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$tmp/ctsqs@example.service" || fail "systemd-analyze verify"
  systemd-analyze security --offline=true --threshold=20 "$tmp/ctsqs@example.service" > "$tmp/security.txt" 2>&1 ||
    { cat "$tmp/security.txt"; fail "exposure above 2.0"; }
  grep "Overall exposure level" "$tmp/security.txt"
else
  echo "   systemd-analyze not found: unit not verified"
fi

step "find_package(ctsqs) consumer against the installed package"
cmake -S "$tmp/src/tests/consumer" -B "$tmp/consumer" -G Ninja > "$tmp/consumer.log" 2>&1 ||
  { cat "$tmp/consumer.log"; fail "configuring the consumer"; }
grep -q "ctsqs_DIR" "$tmp/consumer/CMakeCache.txt" && grep "^ctsqs_DIR" "$tmp/consumer/CMakeCache.txt" | grep -q "^ctsqs_DIR:PATH=/usr/" ||
  fail "the consumer did not find the installed package: $(grep ^ctsqs_DIR "$tmp/consumer/CMakeCache.txt")"
cmake --build "$tmp/consumer" >> "$tmp/consumer.log" 2>&1 || { cat "$tmp/consumer.log"; fail "building the consumer"; }
"$tmp/consumer/consumer" > /dev/null || fail "the consumer failed"

step "dpkg -r removes it cleanly"
DEBIAN_FRONTEND=noninteractive dpkg -r ctsqs-dev ctsqs > "$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log"; fail "dpkg -r"; }
# A package with a postrm stays "config-files" until purged (so purge can run it); it must not
# own any configuration file, though.
for p in ctsqs ctsqs-dev; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case $st in ""|*not-installed|"deinstall ok config-files") ;; *) fail "$p left as '$st'" ;; esac
  [ -z "$(dpkg-query -W -f='${Conffiles}' "$p" 2>/dev/null)" ] || fail "$p left configuration files"
done
left=0
while read -r f; do
  if [ -e "$f" ] && [ ! -d "$f" ]; then echo "left behind: $f" >&2; left=1; fi
done < "$tmp/files.txt"
[ "$left" = 0 ] || fail "files left after dpkg -r"
DEBIAN_FRONTEND=noninteractive dpkg -P ctsqs-dev ctsqs > "$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; fail "dpkg -P"; }
for p in ctsqs ctsqs-dev; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case $st in ""|*not-installed) ;; *) fail "$p left as '$st' after purge" ;; esac
done
installed=0
step "ok"
