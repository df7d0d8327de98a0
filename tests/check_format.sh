#!/usr/bin/env bash
# The C++ sources follow .clang-format (Debian's clang-format 14). Lists every file that does not;
# `clang-format -i FILE` fixes one. Fixture sources (tests/fixtures/) keep the style of their origin.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -- '*.cpp' '*.hpp' | grep -v '^tests/fixtures/' || true)
[ ${#files[@]} -gt 0 ] || { echo "format: no sources found (not a git checkout?)"; exit 1; }
bad=()
for file in "${files[@]}"; do
  clang-format --dry-run --Werror "$file" >/dev/null 2>&1 || bad+=("$file")
done
if [ ${#bad[@]} -gt 0 ]; then
  printf 'format: does not follow .clang-format: %s\n' "${bad[@]}"
  exit 1
fi
echo "format: ${#files[@]} files follow .clang-format"
