#!/usr/bin/env bash
# Builds the example apps: each one's static binary (gcc -static) and its Docker image
# (FROM scratch, no registry needed), tagged deskgrid-example/<app>:<version>.
# Prints one line per app: "<tag> <image id>".
#
# Usage: build.sh [--version V] [--bin-dir DIR] [APP...]
#   APP            the apps to build (folders here with a main.c; default: all of them)
#   --version V    the image tag's version (default: 1)
#   --bin-dir DIR  also keep the static binaries in DIR (to run them without Docker)
# Needs: a C compiler with a static C library (Debian: gcc, libc6-dev) and a Docker daemon.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=1
bin_dir=""
apps=()
while [ $# -gt 0 ]; do
    case "$1" in
        --version) version=${2:?--version needs a value}; shift 2 ;;
        --bin-dir) bin_dir=${2:?--bin-dir needs a folder}; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) apps+=("$1"); shift ;;
    esac
done
if [ ${#apps[@]} -eq 0 ]; then
    for main in "$here"/*/main.c; do apps+=("$(basename "$(dirname "$main")")"); done
fi

cc=${CC:-gcc}
command -v "$cc" >/dev/null || { echo "build.sh: no C compiler '$cc' (Debian: apt-get install gcc libc6-dev)" >&2; exit 1; }
command -v docker >/dev/null || { echo "build.sh: no docker command (install Docker)" >&2; exit 1; }

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
for app in "${apps[@]}"; do
    source_dir="$here/$app"
    [ -f "$source_dir/main.c" ] || { echo "build.sh: no app '$app' here (no $app/main.c)" >&2; exit 2; }
    rm -rf "${context:?}"/*
    "$cc" -static -O2 -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -I"$here/common" \
        -o "$context/$app" "$source_dir/main.c"
    cp "$source_dir/Dockerfile" "$context/Dockerfile"
    if [ -n "$bin_dir" ]; then
        mkdir -p "$bin_dir"
        cp "$context/$app" "$bin_dir/$app"
    fi
    tag="deskgrid-example/$app:$version"
    docker build --quiet --tag "$tag" "$context" >/dev/null
    echo "$tag $(docker inspect --format '{{.Id}}' "$tag")"
done
