#!/usr/bin/env bash
# Builds the supervent OCI image with buildah.
#
#   scripts/build-image.sh [--build-dir DIR] [--tag NAME] [--scratch]
#                          [--root DIR --runroot DIR]
#
# With a base image at hand (debian:12-slim pulled or pullable) it builds
# deploy/container/Containerfile. Where none can be pulled (no registry
# access, as on the project's machines) or with --scratch, it assembles the
# same image from scratch: the binaries already built in DIR/bin (default
# build/), stripped; every shared library they load (ldd) and the dynamic
# loader; CA certificates; time zones; /etc/passwd and /etc/group with the
# non-root user supervent (65532); /var/lib/supervent owned by it. The
# image's entrypoint is superventd, its user 65532:65532, its labels the
# OCI ones (title, version, revision, created).
#
# --root/--runroot: buildah's storage (default: buildah's own), e.g. a
# scratch directory for a test. Prints the image's id on the last line.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$repo/build"
tag="localhost/supervent:latest"
scratch=0
storage=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --scratch) scratch=1; shift ;;
    --root|--runroot) storage+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "build-image.sh: $*" >&2; exit 1; }
command -v buildah >/dev/null || die "buildah is not installed (apt-get install buildah)"
bh() { buildah "${storage[@]}" "$@"; }
base="docker.io/library/debian:12-slim"

if [ "$scratch" = 0 ]; then
  if bh inspect --type image "$base" >/dev/null 2>&1 || timeout 60 buildah "${storage[@]}" pull -q "$base" >/dev/null 2>&1; then
    bh build -f "$repo/deploy/container/Containerfile" -t "$tag" "$repo" >&2
    bh inspect --type image --format '{{.FromImageID}}' "$tag"
    exit 0
  fi
  echo "build-image.sh: cannot pull $base: assembling the image from scratch" >&2
fi

for program in superventd supervent-ctl supervent-sink; do
  [ -x "$build_dir/bin/$program" ] || die "$build_dir/bin/$program is missing: build first (cmake --build $build_dir)"
done
version=$("$build_dir/bin/superventd" --version | awk '{print $2}')
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)

container=$(bh from --name "supervent-build-$$" scratch)
trap 'bh rm "$container" >/dev/null 2>&1 || true' EXIT
root=$(bh mount "$container")

# Debian 12's merged /usr: /bin, /lib and /lib64 are links into /usr, so the
# paths ldd prints resolve inside the image as they do here.
mkdir -p "$root"/usr/bin "$root"/usr/sbin "$root"/usr/lib/x86_64-linux-gnu "$root"/usr/lib64 \
         "$root"/etc/ssl/certs "$root"/etc/supervent "$root"/var/lib/supervent "$root"/tmp "$root"/run
ln -s usr/bin "$root/bin"; ln -s usr/sbin "$root/sbin"; ln -s usr/lib "$root/lib"; ln -s usr/lib64 "$root/lib64"
chmod 1777 "$root/tmp"

for program in superventd supervent-ctl supervent-sink; do
  strip --strip-unneeded -o "$root/usr/bin/$program" "$build_dir/bin/$program"
  # "libX.so => /path (addr)" and the loader's "/lib64/ld-linux-x86-64.so.2 (addr)".
  ldd "$build_dir/bin/$program" | awk '/=> \// {print $3} /^\t\// {print $1}'
done | sort -u | while read -r library; do
  [ -e "$root$library" ] || cp -L "$library" "$root$library"
done

# Trust: the system's CA bundle, where OpenSSL's default paths look.
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
mkdir -p "$root/usr/lib/ssl"
ln -s /etc/ssl/certs "$root/usr/lib/ssl/certs"
ln -s /etc/ssl/certs/ca-certificates.crt "$root/usr/lib/ssl/cert.pem"
# --timezone NAME reads the IANA database.
if [ -d /usr/share/zoneinfo ]; then
  mkdir -p "$root/usr/share"
  cp -a /usr/share/zoneinfo "$root/usr/share/"
fi

cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
supervent:x:65532:65532:supervent:/var/lib/supervent:/usr/sbin/nologin
EOF
cat > "$root/etc/group" <<'EOF'
root:x:0:
supervent:x:65532:
EOF
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
chown 65532:65532 "$root/var/lib/supervent"
chmod 0750 "$root/var/lib/supervent"
mkdir -p "$root/usr/share/doc/supervent/examples"
cp "$repo/config/superventd.example.toml" "$repo/config/scenario.example.toml" "$root/usr/share/doc/supervent/examples/"
bh umount "$container" >/dev/null

bh config \
  --entrypoint '["/usr/bin/superventd"]' --cmd '["--help"]' \
  --user 65532:65532 --workingdir /var/lib/supervent --port 9464/tcp --stop-signal SIGTERM \
  --env PATH=/usr/bin:/bin \
  --label org.opencontainers.image.title=supervent \
  --label "org.opencontainers.image.description=superventd: synthetic log streams for the Axiom ingest API; supervent-ctl; supervent-sink" \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.revision=$revision" \
  --label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --label org.opencontainers.image.base.name=scratch \
  "$container"
bh commit --quiet "$container" "$tag"
