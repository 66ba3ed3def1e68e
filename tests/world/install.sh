#!/usr/bin/env bash
# Install what the tests need on a Debian machine, as root. Idempotent: packages already
# present are not installed again. (dockdojo itself never installs system packages.)
set -euo pipefail

packages=(docker.io docker-registry iptables debootstrap nodejs npm chromium fonts-noto-color-emoji
          rootlesskit slirp4netns uidmap postgresql python3-venv docker-compose)
missing=()
for pkg in "${packages[@]}"; do
  if [ "$pkg" = npm ] && command -v npm >/dev/null; then continue; fi
  if [ "$pkg" = nodejs ] && command -v node >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install] apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "[install] system packages present: ${packages[*]}" >&2

# JupyterHub's proxy (npm), for the room's hub tests
if ! command -v configurable-http-proxy >/dev/null; then
  echo "[install] npm install -g configurable-http-proxy" >&2
  npm install -g --silent configurable-http-proxy@5 >/dev/null
fi
