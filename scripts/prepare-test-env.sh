#!/usr/bin/env bash
# Installs what the integration and browser suites need and pip cannot bring:
# Debian's chromium. In CI (CI=true) it must succeed; on a laptop it is best effort.
set -u
PY="${1:-python3}"
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "prepare-test-env: installing Debian chromium for the browser tests"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
            || { echo "prepare-test-env: chromium install failed"; [ "${CI:-}" = "true" ] && exit 1; }
    else
        echo "prepare-test-env: chromium not found; browser tests will skip (they fail under CI=true)"
    fi
fi
exit 0
