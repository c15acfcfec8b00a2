# Sourced by tools/test and tools/demo: installs the Debian 12 packages ainet builds with.
# As root it runs apt-get; otherwise it names what is missing and how to install it.

AINET_PACKAGES=(
    meson ninja-build pkg-config g++ python3
    clang-19 libfuzzer-19-dev libclang-rt-19-dev
    libsodium-dev liburing-dev libxxhash-dev libconcurrentqueue-dev
    catch2 libbenchmark-dev nlohmann-json3-dev libcli11-dev liblmdb-dev
    libcpp-httplib-dev libspdlog-dev libenet-dev
    iproute2 nftables curl procps
)

ainet_install_deps() {
    local missing=()
    local pkg
    for pkg in "${AINET_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "ainet: missing Debian packages: ${missing[*]}" >&2
        echo "ainet: install them as root: apt-get install -y ${missing[*]}" >&2
        return 1
    fi
    echo "ainet: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || return 1
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
}

# ainet_configure DIR [meson options...]: configures DIR once; later calls only reconfigure.
ainet_configure() {
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        return 0
    fi
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || {
        cat "$dir.setup.log" >&2
        return 1
    }
}
