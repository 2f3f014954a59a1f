#!/usr/bin/env bash
# Installs what building mlpack needs on Debian 12; with --test, also what the
# tests and the example need. Runs apt-get as root, or through sudo.
set -euo pipefail
packages=(cmake ninja-build g++ pkg-config libcli11-dev libarchive-dev libssl-dev libyaml-cpp-dev
          libcurl4-openssl-dev catch2 zstd minisign python3 python3-sklearn python3-joblib
          dpkg-dev file)  # cpack -G DEB: dpkg-shlibdeps, file
if [[ "${1:-}" == "--test" ]]; then
  packages+=(git time tar mandoc minisign nginx-light libnginx-mod-http-dav-ext openssl curl
            python3-fastapi python3-uvicorn python3-yaml shellcheck zsh fish bash-completion man-db)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
as_root=()
if [[ $(id -u) -ne 0 ]]; then as_root=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
