#!/usr/bin/env bash
# Installs headless Chromium for the web inbox's browser tests
# (internal/emulator/web: go test drives it over the DevTools protocol).
# Debian/Ubuntu packages chromium + chromium-driver. Idempotent and quick
# when they are already there; never prompts. Needs root or sudo.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  echo "chromium already installed: $(chromium --version 2>/dev/null || echo chromium)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: apt-get not found; install Chromium yourself and set CCX_CHROMIUM to its path" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo -n"
  else
    echo "install-chromium: run as root (or install sudo)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
echo "installed: $(chromium --version 2>/dev/null || echo chromium)"
