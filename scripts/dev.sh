#!/usr/bin/env bash
# exoderm developer entry point: installs what is missing (Debian packages), builds, runs.
#   scripts/dev.sh run-default   build and run scenarios/default.toml -> results/default.h5
#   scripts/dev.sh test          build and run the whole test suite (ctest)
#   scripts/dev.sh test-sanitize build with ASan + UBSan (preset asan) and run the suite; zero reports
#   scripts/dev.sh build         build only
#   scripts/dev.sh deps [--paraview] [--fuzz]   install the Debian packages only
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PACKAGES=(cmake ninja-build g++ libboost-dev libeigen3-dev libhdf5-dev hdf5-tools catch2
                libtomlplusplus-dev libcli11-dev librandom123-dev libopenmpi-dev openmpi-bin libbenchmark-dev
                python3-h5py python3-numpy python3-matplotlib python3-scipy)
# The ParaView rendering test needs these too (about 190 MB).
PARAVIEW_PACKAGES=(paraview python3-paraview xvfb)
# The libFuzzer build (scripts/fuzz.sh) uses Debian's clang and its sanitizer runtimes.
FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev)

install_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Installing Debian packages: ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "error: need root (or sudo) to install: ${missing[*]}" >&2; exit 2; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

build() {
    cmake --preset release >/dev/null
    cmake --build --preset release -j "$(nproc)"
}

case "${1:-}" in
deps)
    install_packages "${BUILD_PACKAGES[@]}"
    for option in "${@:2}"; do
        case "$option" in
        --paraview) install_packages "${PARAVIEW_PACKAGES[@]}" ;;
        --fuzz) install_packages "${FUZZ_PACKAGES[@]}" ;;
        *) echo "error: deps: unknown option $option (expected --paraview or --fuzz)" >&2; exit 2 ;;
        esac
    done
    ;;
build)
    install_packages "${BUILD_PACKAGES[@]}"
    build
    ;;
run-default)
    install_packages "${BUILD_PACKAGES[@]}"
    build
    mkdir -p results
    build/release/exoderm run scenarios/default.toml -o results/default.h5 --force
    ;;
test)
    install_packages "${BUILD_PACKAGES[@]}" "${PARAVIEW_PACKAGES[@]}"
    build
    ctest --preset release
    ;;
test-sanitize)
    # ASan + UBSan (cmake/Sanitizers.cmake); the last test, sanitizer_reports, fails when any
    # sanitizer report was written during the run.
    install_packages "${BUILD_PACKAGES[@]}" "${PARAVIEW_PACKAGES[@]}"
    cmake --preset asan >/dev/null
    cmake --build --preset asan -j "$(nproc)" --target exoderm exoderm_tests  # no benchmarks: timing is meaningless under ASan
    ctest --preset asan
    ;;
*)
    sed -n '2,8p' "$0"
    exit 2
    ;;
esac
