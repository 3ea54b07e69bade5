#!/bin/sh
# Man pages generated from the CLI's own help (so they cannot drift from it): ctsqs(1) and one
# ctsqs-COMMAND(1) per subcommand that `ctsqs --help` lists, made by help2man, gzipped.
# Usage: man_pages.sh CTSQS_BINARY OUT_DIR VERSION
set -eu
bin=$1 out=$2 version=$3
command -v help2man >/dev/null || { echo "man_pages.sh: help2man not found (scripts/deps installs it)" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out/wrap"
# help2man runs PROGRAM --help and PROGRAM --version; each wrapper names itself as the page.
wrap() {  # wrap NAME ARGS...
  name=$1; shift
  {
    echo '#!/bin/sh'
    echo 'case "${1:-}" in --version) exec "'"$bin"'" --version;; esac'
    echo 'exec -a ctsqs "'"$bin"'" '"$*"' "$@"'
  } > "$out/wrap/$name"
  # dash has no `exec -a`: run the wrapper with bash.
  sed -i '1s|.*|#!/bin/bash|' "$out/wrap/$name"
  chmod +x "$out/wrap/$name"
}
commands=$("$bin" --help | awk '/^Subcommands:/ {s = 1; next} s && NF {print $1}')
[ -n "$commands" ] || { echo "man_pages.sh: no subcommands in '$bin --help'" >&2; exit 1; }
see_also=""
for c in $commands; do see_also="$see_also${see_also:+, }\\fBctsqs-$c\\fR(1)"; done

cat > "$out/ctsqs.h2m" <<H2M
[FILES]
.TP
.I /etc/ctsqs/NAME.json
Collector files run by the systemd unit \\fBctsqs@NAME.service\\fR.
.TP
.I /var/lib/ctsqs/NAME
The instance's state directory (backfill state, ledger).
.TP
.I /usr/share/doc/ctsqs/examples/collector.json
A complete, commented collector file.
[SEE ALSO]
$see_also, \\fBsystemd.exec\\fR(5).
The manual: \\fI/usr/share/doc/ctsqs\\fR.
H2M
wrap ctsqs ""
help2man --no-info --no-discard-stderr --version-string="$version" --section=1 \
  --name="collect AWS CloudTrail logs from an SQS queue and deliver them to Devo" \
  --include="$out/ctsqs.h2m" --output="$out/ctsqs.1" "$out/wrap/ctsqs"
for c in $commands; do
  desc=$("$bin" --help | awk -v c="$c" '/^Subcommands:/ {s = 1; next} s && $1 == c {$1 = ""; sub(/^ +/, ""); print}')
  printf '[SEE ALSO]\n\\fBctsqs\\fR(1).\n' > "$out/sub.h2m"
  wrap "ctsqs-$c" "$c"
  help2man --no-info --no-discard-stderr --version-string="$version" --section=1 \
    --name="$desc" --include="$out/sub.h2m" --output="$out/ctsqs-$c.1" "$out/wrap/ctsqs-$c"
done
gzip -9nf "$out"/*.1
rm -rf "$out/wrap" "$out"/*.h2m
ls "$out"
