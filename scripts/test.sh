#!/usr/bin/env bash
# The test suite, with the real servers some tests talk to installed first (idempotent):
# the OAuth2 authorization server (npm package oauth2-mock-server, run with node) and a
# forward proxy (Debian's tinyproxy). Then `cargo test`, with any arguments passed on.
#   scripts/test.sh                # what CI runs (after fmt and clippy)
#   scripts/test.sh proxy          # one test filter
set -euo pipefail
cd "$(dirname "$0")/.."

# OAuth2 server: npm ci only when the lock changed since the last install.
if command -v npm >/dev/null; then
    if [ ! -f tests/oauth2/node_modules/.ci-lock ] \
        || ! cmp -s tests/oauth2/package-lock.json tests/oauth2/node_modules/.ci-lock; then
        (cd tests/oauth2 && npm ci --no-audit --no-fund --loglevel=error \
            && cp package-lock.json node_modules/.ci-lock)
    fi
else
    echo "test.sh: npm not found: the real OAuth2 server test is skipped (install Node.js)" >&2
fi

# Forward proxy: Debian's tinyproxy.
if ! command -v tinyproxy >/dev/null && [ ! -x /usr/bin/tinyproxy ] && [ ! -x /usr/sbin/tinyproxy ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tinyproxy >/dev/null
    else
        echo "test.sh: tinyproxy is missing and cannot be installed here (apt-get install tinyproxy)" >&2
    fi
fi

cargo test "$@"
