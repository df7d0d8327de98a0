#!/usr/bin/env bash
# The module layering of ARCHITECTURE.md, checked on the includes: each folder may include only the
# modules below it, and nothing outside db/ sees SQLite. Prints every violation; exit 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
# module: the project folders its files may include (besides its own)
declare -A allowed=(
  [util]=""
  [cdp]="util"
  [blacklist]="util"
  [db]="util blacklist"
  [crawler]="util cdp blacklist db"
)
for module in "${!allowed[@]}"; do
  while IFS= read -r line; do
    file=${line%%:*}
    included=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$line")
    [ "$included" = "$module" ] && continue
    if [[ " ${allowed[$module]} " != *" $included "* ]]; then
      echo "layering: $file includes $included/, which $module/ may not use"
      status=1
    fi
  done < <(grep -rnE '^#include "[a-z_]+/' "$module" || true)
done
# SQLite stays inside db/; the command line (crawler/cli) is included only by main.cpp.
if grep -rnE '#include <sqlite3.h>|#include "db/sqlite' util cdp blacklist crawler; then
  echo "layering: only db/ may use SQLite directly"
  status=1
fi
if grep -rlE '#include "crawler/cli/' crawler | grep -vE '^crawler/(cli/|main\.cpp)'; then
  echo "layering: only crawler/main.cpp and crawler/cli/ may include crawler/cli/"
  status=1
fi
[ $status -eq 0 ] && echo "layering: every include follows ARCHITECTURE.md"
exit $status
