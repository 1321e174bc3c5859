#!/usr/bin/env bash
# Installs the Debian packages mpitune needs, only when something is missing.
#
# On a Debian 12 machine as root (CI, a fresh VM): apt-get installs what is missing.
# On a cluster (no root): nothing is installed; load the site's modules instead (README,
# "What a site must provide") and this script only reports what it cannot find.
# Idempotent and fast when everything is there: it checks with dpkg-query first.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build
  libtorch-dev libopenblas0-openmp          # without openblas libtorch falls back to a ~15x slower BLAS
  libopenmpi-dev openmpi-bin
  libhdf5-dev hdf5-tools
  libboost-program-options-dev libgtest-dev nlohmann-json3-dev
  libpcre2-dev                               # byte-level BPE pre-tokenizers: Unicode split patterns
  libsentencepiece-dev sentencepiece         # tokenizer.model files; spm_train/spm_encode for tests
  libicu-dev                                 # tokenizer.json normalizers (NFC: Qwen2)
  python3-h5py                               # tests read result files as users do
  python3-pandas                             # tests: the README's pandas snippet on every kind of result file
  python3-torch                              # tests: reference models written in plain PyTorch
  chromium                                   # tests: the HTML report in a headless browser
  fortunes                                   # the default corpus: /usr/share/games/fortunes
  iproute2                                   # tests: the two-host run across network namespaces (ip netns)
)

# Tests: reference ids from npm JavaScript tokenizers. Node.js is often installed outside Debian's
# packages (it is on the CI image): only a machine without node and npm gets Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install_deps: not a Debian system; skipping package installation (load your site's modules)."
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  [[ "$p" == \#* ]] && continue
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "install_deps: missing Debian packages: ${missing[*]}"
    echo "install_deps: not root, so not installing them. Either install them as root, or load"
    echo "install_deps: modules that provide MPI, HDF5, libtorch, Boost.Program_options and GoogleTest"
    echo "install_deps: (see README: What a site must provide); the build will tell what it cannot find."
    exit 0
  fi
else
  SUDO=
fi

echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q "${missing[@]}"
