#!/usr/bin/env bash
# Builds the Debian package from a configured build folder (default build-test,
# the one scripts/test.sh leaves), checks its fields and contents, installs it
# for real with apt-get, uses the installed /usr/bin/mlpack (pack, verify, man
# page, completions), then purges it again, so the machine is left as it was.
#   scripts/test-package.sh [BUILD_DIR]
# Runs apt-get and dpkg as root, or through sudo. Refuses to run when an mlpack
# package or a /usr/bin/mlpack is already there: it only removes what it installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-$root/build-test}
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -f $build_dir/CPackConfig.cmake ]] ||
  fail "$build_dir has no CPackConfig.cmake: configure it first (scripts/build.sh $build_dir)"
build_dir=$(cd "$build_dir" && pwd)
as_root=()
if [[ $(id -u) -ne 0 ]]; then as_root=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
start=$SECONDS

status=$(dpkg-query -W -f='${db:Status-Status}' mlpack 2>/dev/null) || status=
if [[ -n $status && $status != not-installed ]]; then
  echo "test-package: an mlpack package is already on this machine (dpkg status: $status)." >&2
  echo "test-package: refusing to run, since the test would replace it and then remove it;" >&2
  echo "test-package: remove it yourself first (apt-get purge mlpack) if you mean to." >&2
  exit 1
fi
if [[ -e /usr/bin/mlpack ]]; then
  echo "test-package: /usr/bin/mlpack exists but no mlpack package owns it (a hand install?)." >&2
  echo "test-package: refusing to run, since installing the package would overwrite it." >&2
  exit 1
fi

work=$(mktemp -d)
chmod 755 "$work" # apt's _apt user reads the .deb
installed=0
cleanup() {
  local rc=$?
  if ((installed)); then
    echo "-- purging the mlpack package"
    "${as_root[@]}" dpkg --purge mlpack >"$work/purge.log" 2>&1 || {
      cat "$work/purge.log" >&2
      echo "FAIL: could not purge the mlpack package: run dpkg --purge mlpack" >&2
      rc=1
    }
    if dpkg-query -W -f='${db:Status-Status}' mlpack 2>/dev/null | grep -qv '^not-installed$' ||
       [[ -e /usr/bin/mlpack ]]; then
      echo "FAIL: the mlpack package is still (partly) installed after the purge" >&2
      rc=1
    fi
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "-- building the packaged targets in $build_dir"
cmake --build "$build_dir" --target mlpack man_pages >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "cmake --build $build_dir failed"; }
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build_dir/CPackConfig.cmake")
[[ -n $version ]] || fail "no CPACK_PACKAGE_VERSION in $build_dir/CPackConfig.cmake"
arch=$(dpkg --print-architecture)

echo "-- cpack -G DEB"
cpack --config "$build_dir/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$work/out/mlpack_${version}_${arch}.deb
[[ -f $deb ]] || fail "cpack made no $(basename "$deb"): $(ls "$work/out")"
chmod 644 "$deb"
dpkg-deb -I "$deb"

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == mlpack ]] || fail "Package: $(field Package)"
[[ $(field Version) == "$version" ]] || fail "Version: $(field Version), expected $version"
[[ $(field Architecture) == "$arch" ]] || fail "Architecture: $(field Architecture)"
[[ $(field Section) == utils ]] || fail "Section: $(field Section)"
[[ -n $(field Maintainer) ]] || fail "no Maintainer"
[[ $(field Description) == *$'\n'* ]] || fail "Description has no long paragraph"
depends=", $(field Depends),"
# Debian 12's names (the t64 suffix is what later releases call some of them).
for lib in 'libc6' 'libstdc\+\+6' 'libcurl4(t64)?' 'libarchive13(t64)?' 'libssl3(t64)?' 'libyaml-cpp0\.[0-9]+'; do
  re=", ${lib}[ ,]"
  [[ $depends =~ $re ]] || fail "Depends lacks ${lib//\\/}: $depends"
done

# Contents: the binary (stripped, the only one), man pages, completions, docs.
dpkg-deb -x "$deb" "$work/x"
contents=$(cd "$work/x" && find . -type f | sort)
for f in ./usr/bin/mlpack ./usr/share/man/man1/mlpack.1.gz \
         ./usr/share/bash-completion/completions/mlpack \
         ./usr/share/zsh/vendor-completions/_mlpack \
         ./usr/share/fish/vendor_completions.d/mlpack.fish \
         ./usr/share/doc/mlpack/README.md ./usr/share/doc/mlpack/CHANGELOG.md; do
  grep -qxF "$f" <<<"$contents" || fail "the package lacks $f; it has: $contents"
done
for page in "$root"/man/*.[15]; do
  name=$(basename "$page")
  grep -qxF "./usr/share/man/man${name##*.}/$name.gz" <<<"$contents" || fail "the package lacks man page $name"
done
executables=$(cd "$work/x" && find . -type f -perm -u+x)
[[ $executables == ./usr/bin/mlpack ]] || fail "executables in the package: $executables"
if readelf -S --wide "$work/x/usr/bin/mlpack" | grep -q '\.symtab'; then
  fail "usr/bin/mlpack in the package is not stripped"
fi

echo "-- apt-get install $(basename "$deb")"
installed=1
"${as_root[@]}" apt-get install -y -q --no-install-recommends "$deb" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; fail "apt-get install $deb failed"; }
[[ $(dpkg-query -W -f='${db:Status-Status} ${Version}' mlpack) == "installed $version" ]] ||
  fail "dpkg does not show mlpack $version installed"

echo "-- using /usr/bin/mlpack"
out=$(/usr/bin/mlpack --version) || fail "/usr/bin/mlpack --version failed"
[[ $(head -n1 <<<"$out") == "mlpack $version" ]] || fail "/usr/bin/mlpack --version: $out"
mkdir "$work/repo" "$work/config"
(
  cd "$work/repo"
  unset MLPACK_DIR MLPACK_SIGNING_KEY MLPACK_SIGNING_KEY_DATA MLPACK_KEY_PASSWORD
  export XDG_CONFIG_HOME=$work/config HOME=$work
  /usr/bin/mlpack init >/dev/null || fail "mlpack init"
  printf 'not really a model\n' >m.bin
  /usr/bin/mlpack pack --model m.bin --no-preprocessing -t demo:v1 || fail "mlpack pack"
  /usr/bin/mlpack verify demo:v1 || fail "mlpack verify demo:v1"
)
if command -v man >/dev/null; then
  if grep -rqs '^path-exclude.*/usr/share/man' /etc/dpkg/dpkg.cfg.d/; then
    echo "-- dpkg is set to leave out man pages here (/etc/dpkg/dpkg.cfg.d): not checking man -w"
  else
    found=$(man -w mlpack 2>&1) || fail "man -w mlpack: $found"
    [[ $found == /usr/share/man/man1/mlpack.1.gz ]] || fail "man -w mlpack found $found"
    if [[ -f $root/man/mlpack-spec.5 ]]; then
      found=$(man -w 5 mlpack-spec 2>&1) || fail "man -w 5 mlpack-spec: $found"
      [[ $found == /usr/share/man/man5/mlpack-spec.5.gz ]] || fail "man -w 5 mlpack-spec found $found"
    fi
  fi
fi
[[ -f /usr/share/bash-completion/completions/mlpack ]] ||
  fail "no /usr/share/bash-completion/completions/mlpack"
if [[ -f /usr/share/bash-completion/bash_completion ]]; then
  # shellcheck disable=SC2016
  env HOME="$work" bash --norc --noprofile -c 'source /usr/share/bash-completion/bash_completion
    __load_completion mlpack && complete -p mlpack' >/dev/null 2>&1 ||
    fail "bash-completion loads no completion for mlpack"
fi
[[ -f /usr/share/zsh/vendor-completions/_mlpack ]] || fail "no /usr/share/zsh/vendor-completions/_mlpack"
[[ -f /usr/share/fish/vendor_completions.d/mlpack.fish ]] ||
  fail "no /usr/share/fish/vendor_completions.d/mlpack.fish"

echo "package: ok ($(basename "$deb"), $((SECONDS - start)) s)"
