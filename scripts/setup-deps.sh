#!/usr/bin/env bash
# Installs what cjcrawl needs from Debian 12 packages, only if something is missing.
# Boost is 1.81 on purpose: Debian's default 1.74 lacks Boost.URL and its headers conflict.
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-url1.81-dev
  libre2-dev libsqlite3-dev nlohmann-json3-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
  libpsl-dev libidn2-dev publicsuffix libcli11-dev libspdlog-dev libfmt-dev
  catch2 libbenchmark-dev wabt sqlite3 chromium procps clang-format git
  postgresql libpq-dev
  clang libclang-rt-14-dev
)
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
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
