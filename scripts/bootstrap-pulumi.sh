#!/usr/bin/env bash
# Make a working Pulumi CLI (v3.259.0) available, without the internet beyond the Go module proxy.
#
# 1. A `pulumi` already on PATH whose version is compatible (3.x, >= 3.259.0) is used as is.
# 2. Otherwise the CLI and the Python language host are built from the official Go modules through a
#    small wrapper module, into a cache outside the clone, keyed by version, so that fresh clones and CI
#    runs on the same machine reuse it. A second run is instant.
#
# Prints the directory that holds `pulumi` (put it first on PATH) as the last line of stdout.
set -euo pipefail

PULUMI_VERSION="3.259.0"
LANGUAGE_HOST_VERSION="v3.0.0-20250806165243-bee5e4fa4815"  # see the language host build below
LANGUAGE_HOST_SDK_VERSION="v3.188.0"
CACHE_ROOT="${CERTFLEET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/certfleet}"
BUILD_DIR="$CACHE_ROOT/pulumi-v$PULUMI_VERSION-python-host-${LANGUAGE_HOST_VERSION##*-}"
BIN_DIR="$BUILD_DIR/bin"

log() { printf '[bootstrap-pulumi] %s\n' "$*" >&2; }

version_ok() {  # $1 = "v3.259.0" or "3.259.0"; compatible = major 3 and >= PULUMI_VERSION
    local v="${1#v}"; v="${v%%-*}"; v="${v%%+*}"
    [[ "$v" =~ ^3\.[0-9]+\.[0-9]+$ ]] || return 1
    [ "$(printf '%s\n%s\n' "$PULUMI_VERSION" "$v" | sort -V | head -n1)" = "$PULUMI_VERSION" ]
}

# 1. A compatible pulumi already on PATH (a workstation install). Our own cache dir is checked below.
if [ -z "${CERTFLEET_FORCE_BUILD:-}" ] && existing="$(command -v pulumi 2>/dev/null)" \
   && [ "$(dirname "$existing")" != "$BIN_DIR" ]; then
    if v="$("$existing" version 2>/dev/null)" && version_ok "$v"; then
        log "using $existing ($v) from PATH"
        dirname "$existing"
        exit 0
    fi
    log "ignoring $existing: version '${v:-unknown}' is not compatible with v$PULUMI_VERSION"
fi

# 2. The cached build.
if [ -x "$BIN_DIR/pulumi" ] && [ -x "$BIN_DIR/pulumi-language-python" ] \
   && [ -x "$BIN_DIR/pulumi-language-python-exec" ] && [ -x "$BIN_DIR/pulumi-resource-pulumi-python" ] \
   && [ "$("$BIN_DIR/pulumi" version 2>/dev/null)" = "v$PULUMI_VERSION" ]; then
    log "using cached build in $BIN_DIR"
    echo "$BIN_DIR"
    exit 0
fi

# 3. Build it.
if ! command -v go >/dev/null 2>&1; then
    log "ERROR: no Pulumi CLI >= v$PULUMI_VERSION on PATH and no Go toolchain to build one."
    log "Install Go >= 1.25 (https://go.dev/dl/) or a Pulumi CLI >= v$PULUMI_VERSION, then run again."
    exit 1
fi
log "building Pulumi CLI v$PULUMI_VERSION with $(go version) into $BUILD_DIR"
log "(first time only: downloads ~1.5 GB of Go modules and compiles for 5-20 minutes)"
export GOTOOLCHAIN=local GOFLAGS="-mod=mod"
# The module proxy reachable here serves these pulumi versions, but its checksum database lacks some of
# them (404); go.sum in each wrapper module still pins every hash it downloads.
export GONOSUMDB="github.com/pulumi/pulumi${GONOSUMDB:+,$GONOSUMDB}"
LDFLAGS="-w -s -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
mkdir -p "$BIN_DIR"

# build_wrapper DIR GO_VERSION PACKAGE OUTPUT REQUIRE...: one tiny Go module whose only job is to pin
# versions and build one upstream command.
build_wrapper() {
    local dir="$1" go_version="$2" package="$3" output="$4"; shift 4
    mkdir -p "$dir"
    {
        printf 'module certfleet/%s\n\ngo %s\n\nrequire (\n' "$(basename "$dir")" "$go_version"
        printf '\t%s\n' "$@"
        printf ')\n\n// Same replace as upstream (replaces of dependencies are ignored by consumers).\n'
        printf 'replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e\n'
    } > "$dir/go.mod"
    printf '//go:build tools\n\n// Package tools pins the command this wrapper module builds.\npackage tools\n\nimport _ "%s"\n' \
        "$package" > "$dir/tools.go"
    log "resolving modules for $(basename "$output") (go mod tidy)..."
    (cd "$dir" && go mod tidy 2>&1 | grep -v '^go: downloading' >&2 || true)
    log "compiling $(basename "$output")..."
    (cd "$dir" && go build -trimpath -tags osusergo,grpcnotrace -ldflags "$LDFLAGS" -o "$output" "$package" >&2)
}

# The CLI at v3.259.0 exactly.
build_wrapper "$BUILD_DIR/src/pulumi-cli" 1.25.11 github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$BIN_DIR/pulumi.tmp" \
    "github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION"

# The Python language host has no tags of its own and the proxy reachable here does not serve the
# pseudo-version at v3.259.0's commit (v3.0.0-20260820084410-a05d88f24d05: 403 "not available"). The
# newest one it serves is at bee5e4fa4815 (2025-08-06); that source does not compile against v3.259.0's
# sdk (LanguageRuntimeServer gained methods), so it is built against the release of its own time,
# v3.188.0. The host speaks the stable LanguageRuntime gRPC protocol to the v3.259.0 engine and runs the
# program with the v3.259.0 Python SDK (pinned in requirements.txt) through v3.259.0's exec script.
build_wrapper "$BUILD_DIR/src/pulumi-language-python" 1.24.1 \
    github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 "$BIN_DIR/pulumi-language-python" \
    "github.com/pulumi/pulumi/pkg/v3 $LANGUAGE_HOST_SDK_VERSION" \
    "github.com/pulumi/pulumi/sdk/v3 $LANGUAGE_HOST_SDK_VERSION" \
    "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 $LANGUAGE_HOST_VERSION"

# The two Python-side shims ship inside the sdk/v3 module zip at v3.259.0 (the module cache is read-only:
# install copies them with mode 755).
SDK_DIR="$(cd "$BUILD_DIR/src/pulumi-cli" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
install -m 755 "$SDK_DIR/python/dist/pulumi-resource-pulumi-python" \
               "$SDK_DIR/python/cmd/pulumi-language-python-exec" "$BIN_DIR/"
# The pulumi binary lands last so that a half-finished build is never taken for a cached one.
mv "$BIN_DIR/pulumi.tmp" "$BIN_DIR/pulumi"
log "built $("$BIN_DIR/pulumi" version) in $BIN_DIR"
echo "$BIN_DIR"
