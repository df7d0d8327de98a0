#!/usr/bin/env bash
# Installs what cjcrawl needs from Debian 12 packages, only if something is missing.
# Boost is 1.81 on purpose: Debian's default 1.74 lacks Boost.URL and its headers conflict.
#   scripts/setup-deps.sh                  to build, test and run cjcrawl (CI's first step, the README's setup)
#   scripts/setup-deps.sh --runtime        only what an installed cjcrawl needs to run (the Dockerfile's last stage)
#   scripts/setup-deps.sh --print-runtime  print that runtime list, one package a line; install nothing
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-url1.81-dev
  libre2-dev libsqlite3-dev nlohmann-json3-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
  libpsl-dev libidn2-dev publicsuffix libcli11-dev libspdlog-dev libfmt-dev
  catch2 libbenchmark-dev wabt sqlite3 chromium procps clang-format git
  postgresql libpq-dev
  clang libclang-rt-14-dev
  prometheus-cpp-dev python3-prometheus-client python3-yaml tini
)
# The runtime list: the packages owning the libraries the binary names as NEEDED (libc6, libstdc++6 and
# libgcc-s1 are in every Debian image, listed so the list is whole), libprometheus-cpp-core1.0 for the
# metrics, and what runs beside it: Chrome, tini as PID 1 (it reaps Chrome's orphans), CA certificates
# for `import` over https. tests/deploy/check_runtime_packages.sh holds it to `objdump -p` of the
# built binary, so a new library without its package here fails CI rather than the container.
runtime_packages=(
  libboost-url1.81.0 libre2-9 libsqlite3-0 libpq5 libcurl4 libpsl5 libidn2-0 libspdlog1.10 libfmt9
  libssl3 zlib1g libstdc++6 libgcc-s1 libc6 libprometheus-cpp-core1.0
  chromium tini ca-certificates
)
apt_options=()
case "${1:-}" in
  "") ;;
  --runtime)
    # No recommends: a smaller image, and nothing the crawler does not run.
    packages=("${runtime_packages[@]}")
    apt_options=(--no-install-recommends)
    ;;
  --print-runtime)
    printf '%s\n' "${runtime_packages[@]}"
    exit 0
    ;;
  *)
    echo "setup-deps.sh: unknown option '$1'; expected nothing, --runtime or --print-runtime" >&2
    exit 2
    ;;
esac
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${apt_options[@]}" "${missing[@]}"
