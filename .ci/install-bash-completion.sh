#!/usr/bin/env bash
# Installs bash-completion for TestBashCompletionScript (cmd/ccx), which
# loads completions/ccx.bash into a real bash and asks what Tab offers.
# Debian/Ubuntu package bash-completion. Idempotent and quick when it is
# already there; never prompts. Needs root or sudo (like install-chromium.sh).
set -euo pipefail

BC=/usr/share/bash-completion/bash_completion
if [ -r "$BC" ]; then
  echo "bash-completion already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-bash-completion: apt-get not found; install bash-completion yourself ($BC)" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo -n"
  else
    echo "install-bash-completion: run as root (or install sudo)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq bash-completion >/dev/null
echo "installed: bash-completion"
