#!/usr/bin/env bash
# Installs the Debian packages a4nn needs to build, test and run.
# As root it installs what is missing (apt-get update first); otherwise it
# prints the apt-get command to run and fails if anything is missing.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config
  openmpi-bin libopenmpi-dev
  libgsl-dev
  libhdf5-openmpi-dev hdf5-tools
  libopenblas-dev
  libdnnl-dev
  libcmocka-dev
  libinih-dev
  libpng-dev zlib1g-dev
)
# `setup-debian.sh test` (what `make test` and `make bench` run) adds what the
# tests and benchmarks use: headless Chromium for the report tests, h5py and
# PIL to read commons files and previews, PyTorch for the export parity test
# and the benchmarks' peer, SciPy to check the reference curve fits against,
# a single-node Slurm for the job tests, and bc for the scaling benchmark.
TEST_PACKAGES=(
  chromium python3-h5py python3-pil python3-numpy python3-torch python3-scipy
  slurm-wlm munge bc
)
if [[ ${1:-} == test ]]; then
  PACKAGES+=("${TEST_PACKAGES[@]}")
fi
# Anything else a site wants: A4NN_EXTRA_PACKAGES="pkg ...".
if [[ -n "${A4NN_EXTRA_PACKAGES:-}" ]]; then
  read -r -a extra <<<"$A4NN_EXTRA_PACKAGES"
  PACKAGES+=("${extra[@]}")
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  echo "a4nn setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "a4nn: missing Debian packages: ${missing[*]}" >&2
  echo "a4nn: install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
