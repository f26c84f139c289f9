#!/usr/bin/env bash
# The test suite, with the real servers some tests talk to installed first (idempotent):
# Node packages from tests/*/package-lock.json (the OAuth2 server, …), Python packages from
# tests/*/requirements.txt into target/test-venv, and a forward proxy (Debian's tinyproxy). Then `cargo test`, with any arguments passed on.
#   scripts/test.sh                # what CI runs (after fmt and clippy)
#   scripts/test.sh proxy          # one test filter
set -euo pipefail
cd "$(dirname "$0")/.."

# Node servers: every tests/*/package-lock.json (the OAuth2 server, json-server, …) gets
# `npm ci` in its folder, only when the lock changed since that folder's last install.
if command -v npm >/dev/null; then
    for lock in tests/*/package-lock.json; do
        [ -f "$lock" ] || continue
        dir=$(dirname "$lock")
        if [ ! -f "$dir/node_modules/.ci-lock" ] || ! cmp -s "$lock" "$dir/node_modules/.ci-lock"; then
            (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error \
                && cp package-lock.json node_modules/.ci-lock)
        fi
    done
else
    echo "test.sh: npm not found: the tests with real Node servers are skipped (install Node.js)" >&2
fi

# Python servers: one venv, target/test-venv, with every tests/*/requirements.txt installed
# (pinned versions); rebuilt only when those files change. Tests run target/test-venv/bin/python.
reqs=$(ls tests/*/requirements.txt 2>/dev/null || true)
if [ -n "$reqs" ]; then
    venv=target/test-venv
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        fi
    fi
    stamp=$(cat $reqs | sha256sum | cut -d' ' -f1)
    if [ ! -f "$venv/.stamp" ] || [ "$(cat "$venv/.stamp")" != "$stamp" ]; then
        rm -rf "$venv"
        if python3 -m venv "$venv"; then
            for r in $reqs; do "$venv/bin/pip" install -q --disable-pip-version-check -r "$r"; done
            echo "$stamp" > "$venv/.stamp"
        else
            echo "test.sh: python3 -m venv failed: the tests with real Python servers are skipped" >&2
        fi
    fi
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
