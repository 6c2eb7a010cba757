# Sourced by test.sh: the Debian packages the browser and Prometheus tests drive, installed when missing.
# Chromium (headless, driven by Playwright with executable_path) and Prometheus (a private process per
# test, own config and data folder, loopback port) come from Debian; no tool downloads a browser.
ensure_debian_packages() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "error: the tests need the Debian packages ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  echo "installing Debian packages: ${missing[*]}"
  # Never start the prometheus system service: the tests run their own process. policy-rc.d answering
  # 101 tells invoke-rc.d not to start services; it is only added (and removed again) when absent.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod +x "$policy"
    added_policy=1
  fi
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q)
  local status=0
  "${apt[@]}" update >/dev/null || status=$?
  if [ "$status" -eq 0 ]; then
    "${apt[@]}" install --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  fi
  if [ "$added_policy" -eq 1 ]; then
    "${sudo[@]}" rm -f "$policy"
  fi
  if [ "$status" -ne 0 ]; then
    echo "error: apt-get could not install ${missing[*]}" >&2
    exit "$status"
  fi
}
