#!/usr/bin/env bash
# tests/deploy/check_runtime_packages.sh BINARY SOURCE_DIR: the Dockerfile's runtime stage installs only
# `scripts/setup-deps.sh --runtime`'s list (printed by --print-runtime, its one home), so every library
# the built binary names as NEEDED must belong to a package on that list; a library added to the build
# without its package there fails here, not in the container. Also: every package on the list exists in
# the configured Debian archive, and `--runtime` exits 0 where they are all installed.
set -euo pipefail
binary=$1
source=$2
fail() { echo "check_runtime_packages: $*" >&2; exit 1; }

mapfile -t runtime < <("$source/scripts/setup-deps.sh" --print-runtime)
[ ${#runtime[@]} -gt 0 ] || fail "setup-deps.sh --print-runtime printed nothing"

# The NEEDED libraries, where the loader finds them, and the package owning each. Debian 12 has merged
# /usr, but dpkg knows each file by the path its package ships (/lib/... or /usr/lib/...): try both.
mapfile -t needed < <(objdump -p "$binary" | awk '$1 == "NEEDED" {print $2}')
[ ${#needed[@]} -gt 0 ] || fail "objdump found no NEEDED library in $binary"
resolved=$(ldd "$binary")
missing=()
for library in "${needed[@]}"; do
  path=$(awk -v lib="$library" '$1 == lib && $2 == "=>" {print $3}' <<<"$resolved")
  [ -n "$path" ] || fail "ldd does not resolve $library"
  owner=""
  for candidate in "$path" "${path#/usr}" "/usr$path"; do
    owner=$(dpkg-query -S "$candidate" 2>/dev/null | head -n1 | cut -d: -f1) && [ -n "$owner" ] && break
  done
  [ -n "$owner" ] || fail "no Debian package owns $path ($library)"
  printf '%-28s %-50s %s\n' "$library" "$path" "$owner"
  printf '%s\n' "${runtime[@]}" | grep -qx "$owner" || missing+=("$owner ($library)")
done
if [ ${#missing[@]} -gt 0 ]; then
  fail "not in setup-deps.sh's runtime list: ${missing[*]}; add them to runtime_packages"
fi

# Each name on the list is a package of the configured archive (a typo would fail the image's build).
if apt-cache show libc6 >/dev/null 2>&1; then
  # One call (each apt-cache start reads every list); it skips names it cannot find, so compare.
  known=$(apt-cache show --no-all-versions "${runtime[@]}" 2>/dev/null | sed -n 's/^Package: //p' | sort -u)
  for package in "${runtime[@]}"; do
    grep -qx "$package" <<<"$known" || fail "runtime package $package is not in the Debian archive apt knows"
  done
else
  echo "check_runtime_packages: apt has no package lists here; the names were not looked up"
fi

# Where every runtime package is installed, --runtime has nothing to install and must exit 0.
all_installed=1
for package in "${runtime[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || all_installed=0
done
if [ $all_installed -eq 1 ]; then
  "$source/scripts/setup-deps.sh" --runtime || fail "setup-deps.sh --runtime exited $?"
else
  echo "check_runtime_packages: not every runtime package is installed here; --runtime itself not run"
fi
echo "check_runtime_packages: the ${#needed[@]} NEEDED libraries' packages are all in the runtime list (${#runtime[@]} packages)"
