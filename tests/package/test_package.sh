#!/usr/bin/env bash
# The Debian package, built and unpacked the way a user gets it: cpack -G DEB, dpkg-deb -x into a scratch
# root, then the installed kiln, kilnd and kiln-studio run from there (they find ../share/kiln beside them),
# a real run uses the installed Python module, the studio starts offscreen, and the metadata validates.
# Usage: test_package.sh BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d)
cleanup() {
  [ -x "$work/root/usr/bin/kiln" ] && "$work/root/usr/bin/kiln" server stop --workspace "$work/ws" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" >/dev/null) || fail "cpack could not build the package"
deb=$(ls "$work"/out/kiln_*_amd64.deb) || fail "no kiln_<version>_amd64.deb"
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
depends=$(dpkg-deb -f "$deb" Depends)
for need in libqt6widgets6 libcpprest libsqlite3 python3; do
  grep -q "$need" <<<"$depends" || fail "Depends lacks $need: $depends"
done
dpkg-deb -x "$deb" "$work/root"
bin=$work/root/usr/bin

"$bin/kiln" --version | grep -q '^kiln [0-9]' || fail "kiln --version"
"$bin/kilnd" --version | grep -q '^kilnd [0-9]' || fail "kilnd --version"
QT_QPA_PLATFORM=offscreen "$bin/kiln-studio" --version | grep -q 'Kiln Studio [0-9]' || fail "kiln-studio --version"

# A run through the installed programs, with the installed Python module.
mkdir -p "$work/src"
cat >"$work/src/hello.py" <<'PY'
import kiln
run = kiln.Run.get_context()
run.log("x", 1.0)
print("module from", kiln.__file__)
PY
"$bin/kiln" workspace init "$work/ws" >/dev/null
id=$("$bin/kiln" --workspace "$work/ws" run submit --experiment package --source "$work/src" --script hello.py --json \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
out=$("$bin/kiln" --workspace "$work/ws" run wait "$id" --show-output) || fail "the run did not complete: $out"
grep -q "module from $work/root/usr/share/kiln/python/kiln/__init__.py" <<<"$out" || fail "not the installed module: $out"
[ "$(readlink -f /proc/"$(python3 -c "import json; print(json.load(open('$work/ws/server.json'))['pid'])")"/exe)" = "$bin/kilnd" ] \
  || fail "the CLI did not start the installed kilnd"

# The studio starts and stays up (offscreen) on that workspace.
set +e
QT_QPA_PLATFORM=offscreen XDG_CONFIG_HOME="$work/config" XDG_RUNTIME_DIR="$work/runtime" XDG_CACHE_HOME="$work/cache" \
  timeout 4 "$bin/kiln-studio" --workspace "$work/ws" >/dev/null 2>&1
status=$?
set -e
[ $status -eq 124 ] || fail "kiln-studio exited early with $status"

# Desktop integration metadata.
share=$work/root/usr/share
grep -q '^Exec=kiln-studio' "$share/applications/org.kiln.Studio.desktop" || fail "desktop entry"
for size in 16x16 32x32 48x48 128x128 256x256; do
  [ -s "$share/icons/hicolor/$size/apps/org.kiln.Studio.png" ] || fail "icon $size"
done
[ -s "$share/icons/hicolor/scalable/apps/org.kiln.Studio.svg" ] || fail "scalable icon"
for page in kiln kilnd kiln-studio; do
  zcat "$share/man/man1/$page.1.gz" | grep -q '^\.TH' || fail "man page $page"
done
grep -q 'complete -o filenames -F _kiln kiln' "$share/bash-completion/completions/kiln" || fail "bash completion"
appstreamcli validate --no-net "$share/metainfo/org.kiln.Studio.metainfo.xml" || fail "AppStream metainfo"
echo "package OK"
