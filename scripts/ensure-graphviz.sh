#!/usr/bin/env bash
# The flowchart is laid out by Graphviz's dot (Debian's graphviz package, /usr/bin/dot).
set -euo pipefail
if command -v dot >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's graphviz for the flowchart..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
  exit 0
fi
echo "Graphviz (dot) is missing: the flowchart will say it is unavailable. Install it, then run make again:" >&2
echo "    sudo apt-get install -y graphviz" >&2
exit 1
