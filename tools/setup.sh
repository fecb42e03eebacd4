#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those that are missing; arguments name
# further packages (tools/setup-python.sh adds python3-venv).
# Run as root (or with sudo available). Safe to run repeatedly.
set -euo pipefail
packages=(pkg-config libncurses-dev libopenblas-dev libdnnl-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev dataset-fashion-mnist tmux python3 "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
