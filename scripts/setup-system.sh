#!/usr/bin/env bash
# Installs the Debian packages jifen needs on a machine: headers to build mysqlclient,
# Chromium and CJK fonts for browser tests. Safe to run repeatedly; does nothing when all
# are present. Needs root (or sudo) and apt-get; on other systems install them by hand.
set -euo pipefail
packages=(pkg-config libmariadb-dev gettext chromium fonts-noto-cjk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if ! command -v apt-get >/dev/null; then
  echo "setup-system: please install ${missing[*]} with your package manager" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "setup-system: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
