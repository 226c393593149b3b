#!/usr/bin/env bash
# Sets up a Debian 12 machine for Kiln and builds it. The two commands of README.md:
#   cmake/bootstrap.sh studio   install what is missing, build, open Kiln Studio on the default workspace
#   cmake/bootstrap.sh test     install what is missing, build everything, run every test (CTest)
#   cmake/bootstrap.sh asan     the same tests built with AddressSanitizer + UBSan (build/asan); the
#                               suppression files for third-party noise are cmake/sanitizers/*.supp
set -euo pipefail
mode=${1:-}
case "$mode" in studio|test|asan) ;; *) echo "usage: $0 studio|test|asan" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build ccache pkg-config
  qt6-base-dev qt6-svg-dev qt6-charts-dev libqt6opengl6-dev
  libcpprest-dev nlohmann-json3-dev libsqlite3-dev libssl-dev openssl libyaml-cpp-dev libarchive-dev libcli11-dev libboost-dev
  xvfb xauth fonts-dejavu-core
  python3 python3-numpy python3-venv python3-pip python3-setuptools python3-wheel
  python3-nbconvert python3-ipykernel jupyter-nbconvert
  python3-matplotlib libopenblas0-pthread dataset-fashion-mnist clang appstream dpkg-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

if [ "$mode" = studio ]; then
  cmake --preset dev
  cmake --build --preset dev --target kiln-studio kilnd kiln
  exec build/dev/bin/kiln-studio "${@:2}"
fi

preset=ci
if [ "$mode" = asan ]; then
  # Every process the tests start (kilnd, its supervisors, kiln) inherits these. halt_on_error: a report
  # fails the test that caused it.
  preset=asan
  san=$(pwd)/cmake/sanitizers
  # Reports go to files, so those of processes no test reads (kilnd, its supervisors, kiln) fail the run too.
  reports=$(mktemp -d /tmp/kiln-sanitizers.XXXXXX)
  export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=0:log_path=$reports/asan"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$san/ubsan.supp:log_path=$reports/ubsan"
  export LSAN_OPTIONS="suppressions=$san/lsan.supp:print_suppressions=0"
fi
# Tests: warnings are errors here, as in CI.
cmake --preset $preset
cmake --build --preset $preset
export QT_QPA_PLATFORM=offscreen

# A real Slurm cluster for the Slurm tests (2 nodes x 4 CPUs), stopped again however the tests end.
slurm_dir=$(cd .. && pwd)/shared/slurm
if [ -x "$slurm_dir/start_slurm.sh" ] && [ "$(id -u)" -eq 0 ]; then
  export SLURM_CI_BASE=/tmp/kiln-slurm
  "$slurm_dir/stop_slurm.sh" >/dev/null 2>&1 || true
  trap '"$slurm_dir/stop_slurm.sh" >/dev/null 2>&1 || true' EXIT
  SLURM_CI_INSTALL=1 "$slurm_dir/start_slurm.sh" </dev/null
  # shellcheck disable=SC1091
  source "$SLURM_CI_BASE/env.sh"
else
  echo "No Slurm test cluster ($slurm_dir/start_slurm.sh, as root): the Slurm tests will be skipped (or fail under CI=true)."
fi
rc=0
ctest --preset $preset -j2 --timeout 2700 || rc=$?
if [ "$mode" = asan ] && compgen -G "$reports/*" >/dev/null; then
  echo "Sanitizer reports (from the tests and every process they started):"
  cat "$reports"/*
  rc=1
fi
exit $rc
