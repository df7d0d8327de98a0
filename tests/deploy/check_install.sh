#!/usr/bin/env bash
# tests/deploy/check_install.sh BUILD_DIR SOURCE_DIR: the Dockerfile's `cmake --install build --strip`
# step, run into a scratch DESTDIR. The binary must land where the Dockerfile's ENTRYPOINT runs it
# (PREFIX/bin/cjcrawl; the image's prefix is the default /usr/local), run there (`--version`), and the
# rules must be installed whole beside it (PREFIX/share/cjcrawl/rules, the same files as seeds/rules).
set -euo pipefail
build=$1
source=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "check_install: $*" >&2; exit 1; }

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
[ -n "$prefix" ] || fail "no CMAKE_INSTALL_PREFIX in $build/CMakeCache.txt"
DESTDIR=$scratch cmake --install "$build" --strip >"$scratch.log" 2>&1 || { cat "$scratch.log" >&2; rm -f "$scratch.log"; fail "cmake --install failed"; }
rm -f "$scratch.log"

binary=$scratch$prefix/bin/cjcrawl
rules=$scratch$prefix/share/cjcrawl/rules
[ -x "$binary" ] || fail "no executable at $prefix/bin/cjcrawl after the install"
if [ "$prefix" = /usr/local ]; then
  grep -q '"/usr/local/bin/cjcrawl"\]' "$source/Dockerfile" || fail "the Dockerfile's ENTRYPOINT is not $prefix/bin/cjcrawl"
fi
[ -d "$rules" ] || fail "no rules directory at $prefix/share/cjcrawl/rules after the install"
diff -r "$source/seeds/rules" "$rules" >/dev/null || fail "the installed rules differ from seeds/rules"
[ -n "$(ls -A "$rules")" ] || fail "the installed rules directory is empty"

# The installed (stripped) binary runs, and reads the installed rules.
version=$("$binary" --version --rules "$rules") || fail "the installed binary's --version failed"
echo "$version"
grep -q '^cjcrawl [0-9]' <<<"$version" || fail "--version did not name cjcrawl's version"
grep -qF "rules:  $rules (--rules)" <<<"$version" || fail "--version did not accept the installed rules: $version"
echo "check_install: $prefix/bin/cjcrawl and $prefix/share/cjcrawl/rules installed and run"
