#!/usr/bin/env bash
# Runs after the browser tests (CTest FIXTURES_CLEANUP): no Chrome process started by cjcrawl and no
# temporary profile may remain. cjcrawl's profiles are <root>/cjcrawl-profile-<pid>-XXXXXX, where root
# is /dev/shm (a tmpfs, the default) or ${TMPDIR:-/tmp} (see cdp::profile_root), and every Chrome it
# starts carries --user-data-dir=<that profile>/data.
set -u
tmp="${TMPDIR:-/tmp}"
status=0
# Give the last teardown a moment; a reaped process group can take a few ms to vanish.
for _ in 1 2 3 4 5 6 7 8 9 10; do
  procs=$(pgrep -af -- "--user-data-dir=[^ ]*/cjcrawl-profile-" || true)
  [ -z "$procs" ] && break
  sleep 0.5
done
if [ -n "$procs" ]; then
  echo "Chrome processes left behind:"; echo "$procs"; status=1
fi
profiles=$(find "$tmp" /dev/shm ${CJCRAWL_PROFILE_ROOT:-} -maxdepth 1 -name 'cjcrawl-profile-*' 2>/dev/null)
if [ -n "$profiles" ]; then
  echo "profiles left behind:"; echo "$profiles"; status=1
fi
[ $status -eq 0 ] && echo "no leftover Chrome process or profile"
exit $status
