#!/usr/bin/env bash
# Proves the README's two commands on a fresh Debian 12 machine: builds a minimal bookworm root
# with mmdebstrap (nothing installed by hand), puts a clean `git clone` of HEAD in it, and runs
# `scripts/test.sh` and then `scripts/run.sh` (no display: its command-line demo) inside it with
# chroot. Prints the last lines of each and `fresh machine: PASS|FAIL in N s`.
#
# Needs root and the network to the package archive; not part of CI. The package source is the
# one this machine's apt uses (its sources files and its Acquire proxy / validity options, read
# from the apt configuration), so nothing here names a host.
#   scripts/check-fresh-machine.sh [--keep]   --keep: leave the root in place for inspection
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

keep=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    *) echo "check-fresh-machine: unknown option $arg (expected --keep)" >&2; exit 2 ;;
  esac
done
if [[ $(id -u) -ne 0 ]]; then
  echo "check-fresh-machine: needs root (mmdebstrap, chroot and bind mounts)" >&2
  exit 2
fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
  echo "check-fresh-machine: installing mmdebstrap" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi

start=$(date +%s)
work=$(mktemp -d /tmp/zfvis-fresh.XXXXXX)
root="$work/root"
mounts=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # Unmount in reverse order; lazily, so a process still holding a mount cannot block us.
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount -R -l "${mounts[$i]}" 2>/dev/null || true
  done
  if [[ $keep -eq 1 ]]; then
    echo "check-fresh-machine: root kept in $root" >&2
  elif findmnt -rn -o TARGET | grep -q "^$root"; then
    echo "check-fresh-machine: mounts remain under $root; not deleting it" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'echo "check-fresh-machine: interrupted" >&2; exit 130' INT TERM

# The package source: every sources file apt reads on this machine.
eval "$(apt-config shell ETC Dir::Etc/d SOURCELIST Dir::Etc::sourcelist/f SOURCEPARTS Dir::Etc::sourceparts/d)"
sources=()
[[ -s "$SOURCELIST" ]] && sources+=("$SOURCELIST")
for f in "$SOURCEPARTS"/*.list "$SOURCEPARTS"/*.sources; do
  [[ -s "$f" ]] && sources+=("$f")
done
if [[ ${#sources[@]} -eq 0 ]]; then
  echo "check-fresh-machine: apt has no sources (looked in $SOURCELIST and $SOURCEPARTS)" >&2
  exit 1
fi
# Options that decide whether the same source can be reached: proxies and validity checks.
aptopts=()
while IFS= read -r line; do
  aptopts+=(--aptopt="$line")
done < <(apt-config dump | grep -E '^Acquire::(https?::Proxy|Check-Valid-Until|Check-Date) ' || true)

log="$work/log"
mkdir -p "$log"
echo "check-fresh-machine: creating a minimal Debian 12 root in $root" >&2
if ! mmdebstrap --variant=apt --quiet "${aptopts[@]}" bookworm "$root" "${sources[@]}" \
  >"$log/mmdebstrap.txt" 2>&1; then
  tail -n 20 "$log/mmdebstrap.txt" >&2
  echo "fresh machine: FAIL in $(($(date +%s) - start)) s (mmdebstrap)"
  exit 1
fi

# The project as a new user gets it: a clean clone of HEAD (committed work only), made from
# outside so that the root gets nothing our scripts do not install themselves.
git clone -q "$repo" "$root/root/zfvis"
git -C "$root/root/zfvis" checkout -q "$(git -C "$repo" rev-parse HEAD)"

for m in proc sys dev; do
  mkdir -p "$root/$m"
  mount --rbind "/$m" "$root/$m"
  mount --make-rslave "$root/$m"
  mounts+=("$root/$m")
done
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

# Runs one command in the fresh root as a new user's shell would: no DISPLAY, a plain PATH.
run_in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    TERM=dumb /bin/bash -c "cd /root/zfvis && $1"
}

status=0
echo "check-fresh-machine: scripts/test.sh" >&2
t0=$(date +%s)
if [[ $status -eq 0 ]] && ! run_in_root "scripts/test.sh" >"$log/test.txt" 2>&1; then status=1; fi
t1=$(date +%s)
echo "---- scripts/test.sh ($((t1 - t0)) s), last lines:"
tail -n 15 "$log/test.txt" 2>/dev/null || true
if [[ $status -eq 0 ]]; then
  echo "check-fresh-machine: scripts/run.sh" >&2
  if ! run_in_root "scripts/run.sh" >"$log/run.txt" 2>&1; then status=1; fi
  t2=$(date +%s)
  echo "---- scripts/run.sh ($((t2 - t1)) s), last lines:"
  tail -n 15 "$log/run.txt"
  for png in "$root"/root/zfvis/out/demo/*.png; do
    [[ -s "$png" ]] || { echo "check-fresh-machine: run.sh wrote no pictures" >&2; status=1; }
    break
  done
fi

if [[ $status -eq 0 ]]; then
  echo "fresh machine: PASS in $(($(date +%s) - start)) s"
else
  echo "fresh machine: FAIL in $(($(date +%s) - start)) s (logs: $log; rerun with --keep to inspect)"
  keep=1
fi
exit "$status"
