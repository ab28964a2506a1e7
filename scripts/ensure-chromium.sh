#!/usr/bin/env bash
# The browser tests drive Debian's Chromium at /usr/bin/chromium (no browser downloads).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "Chromium is missing. Install it, then run 'make test' again:" >&2
echo "    sudo apt-get install -y chromium" >&2
exit 1
