# Private S3 servers (moto) for the CLI tests of S3 remotes. Source it after
# lib.sh (and after nginx.sh, if the test uses both):
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   source "$MLPACK_TESTS_DIR/cli/moto.sh"
#
# Needs a Python 3 with moto 5 (server extras), boto3 and awscli (v1): the
# first of $MOTO_PYTHON, `python3` on PATH, $PYENV_ROOT/shims/python3 and the
# interpreter named in moto_server's #! line that imports all three. (On the
# dev image that is pyenv's /root/.pyenv/versions/3.11.7/bin/python3;
# Debian's /usr/bin/python3, lib.sh's $PY, has no moto.) Traffic stays on
# 127.0.0.1: every client here gets an explicit endpoint, and no AWS
# configuration or proxy from the caller's environment reaches the server or
# the clients.
#
#   moto_start NAME [BUCKET]
#       Starts a moto server on 127.0.0.1 (port chosen free), as a background
#       job of the test (CTest's timeout kills it with the test), logging to
#       $TMP/moto-NAME/server.log. While moto's authentication is still off
#       it creates, through the IAM API:
#         - user mlpack-test-s3 with a policy allowing s3:* on *, and its key;
#         - user mlpack-test-no-s3 with a policy allowing only iam:GetUser on
#           itself, i.e. no S3 at all (requests get 403 AccessDenied), and
#           its key;
#         - the bucket BUCKET (default mlpack-test), with versioning enabled
#           (see moto_state).
#       Then it switches SigV4 checking on (POST "0" to /moto-api/reset-auth)
#       and checks that it is on: a request signed with a wrong secret gets
#       403 SignatureDoesNotMatch, the second user gets 403 AccessDenied, the
#       first user can list the bucket. Sets, for the instance just started:
#         MOTO_PORT MOTO_URL (http://127.0.0.1:PORT, no trailing slash)
#         MOTO_BUCKET MOTO_REGION (us-east-1) MOTO_LOG (the server log)
#         MOTO_ACCESS_KEY_ID MOTO_SECRET_ACCESS_KEY           (may use S3)
#         MOTO_DENIED_ACCESS_KEY_ID MOTO_DENIED_SECRET_ACCESS_KEY (may not)
#       (shell variables, not exported). Several instances with different
#       NAMEs may run at once; the helpers below act on the one the MOTO_*
#       variables name (moto_use switches). moto keeps its state in memory:
#       starting a NAME again after moto_stop gives an empty bucket, on the
#       same port and with the same keys as before (moto's random generator
#       is seeded from NAME), i.e. a server that lost everything and came
#       back.
#       Addressing: path style, http://127.0.0.1:PORT/BUCKET/KEY. Environment
#       knobs: MOTO_START_TIMEOUT (seconds, default 60), MOTO_S3_PART_MIN_SIZE
#       (moto's minimum size of a multipart part other than the last, default
#       5 MiB as on AWS).
#   moto_stop NAME
#       Stops the instance and returns once the process is gone.
#   moto_stop_all
#       Stops every instance still running.
#   moto_use NAME
#       Points the MOTO_* variables at the running instance NAME again.
#
#   moto_aws ARGS...               the aws CLI, as the S3 user
#   moto_aws_as KEY_ID SECRET ARGS...  the aws CLI with other credentials
#       Against $MOTO_URL, region $MOTO_REGION, path-style addressing, one
#       attempt (no retries), no pager; the credentials only in that
#       command's environment, no config or credential files from $HOME.
#
#   S3 helpers, as the S3 user, on $MOTO_BUCKET, ~30 ms each (a small
#   standard-library client; the aws CLI takes ~500 ms a call). KEY is a
#   whole key in the bucket; PREFIX is a plain string prefix, as S3 has it
#   (give the trailing "/": "a/b" also matches "a/bc"):
#   moto_keys PREFIX       every object key under PREFIX, relative to it,
#                          sorted by code point (= LC_ALL=C), one a line
#   moto_cat KEY           the object's bytes on stdout; exit 1 if there is
#                          no such key, 2 on any other error
#   moto_put KEY FILE      stores FILE's bytes as KEY (one PutObject)
#   moto_delete KEY        DeleteObject (succeeds for a missing key, as S3
#                          does; in the versioned bucket it adds a delete
#                          marker, so the key is gone from moto_keys/moto_cat)
#   moto_state PREFIX      a listing of every version and delete marker
#                          under PREFIX ("KEY VERSION-ID ETAG latest|old
#                          object|delete-marker", tab-separated, sorted).
#                          Any write changes it, even of the same bytes in
#                          the same second: moto's LastModified has whole
#                          seconds only, so a listing of LastModified and
#                          ETag could not tell such writes apart, while each
#                          write to a versioned bucket gets a new version id.
#                          Reads do not change it.
#   moto_open_multipart_uploads [PREFIX]
#                          how many multipart uploads are open (created, not
#                          completed nor aborted) in the bucket, or for keys
#                          under PREFIX
#   On failure (server down, wrong credentials...) moto_keys, moto_state and
#   moto_open_multipart_uploads print the error to stderr, a line starting
#   with "!moto-error" to stdout (so a comparison with an expected listing,
#   even an empty one, cannot pass by accident) and return 2.
#
# Where moto differs from S3 (details in the comments of the launcher below):
# this harness fixes three moto bugs in the server it starts: the SigV4 check
# uses the request target as sent (stock moto rejects a correctly signed
# request whose query or path has %-encoded characters, e.g. ListObjectsV2
# with prefix=a%2F; getmoto/moto#5948), an unsigned request gets 403
# AccessDenied instead of a 500, and UploadPart/CompleteMultipartUpload with
# an unknown upload id get 404 NoSuchUpload instead of a 500. It leaves the
# rest as moto has it, in particular: moto does not check
# x-amz-content-sha256 against the body, nor Content-MD5 or x-amz-checksum-*,
# nor the clock skew, nor the region of the credential scope; it recomputes
# the signature over x-amz-content-sha256 as sent, so a request without that
# header is refused even when well signed; it refuses a signature whose
# SignedHeaders include user-agent, expect or transfer-encoding (botocore,
# which moto uses to recompute signatures, never signs those); it closes the
# connection after every response (no keep-alive) and answers
# "Expect: 100-continue" with two "100 Continue" lines.
#
# Cleanup: this file wraps the EXIT trap set before it (lib.sh's, or
# nginx.sh's, which in turn wraps lib.sh's): on exit every moto server still
# running is stopped, then the previous handler runs with the script's exit
# status. Sourced after nginx.sh, it also makes nginx.sh's harness_stop_all
# stop the moto servers; without nginx.sh it defines harness_stop_all itself.
# A test that sets its own EXIT trap after sourcing this file must call
# harness_stop_all (or moto_stop_all) in it.

# shellcheck disable=SC2034 # MOTO_* are set for the caller
if [[ -z ${TMP:-} ]] || ! declare -F fail >/dev/null; then
  echo "moto.sh: source lib.sh first" >&2
  exit 1
fi

if [[ -z ${_MOTO_HARNESS_LOADED:-} ]]; then
_MOTO_HARNESS_LOADED=1

# Starting imports moto, boto3 and the IAM/S3 models: about 2 s of CPU on an
# idle machine, much more next to a compiler.
MOTO_START_TIMEOUT=${MOTO_START_TIMEOUT:-60}
# How long a stopping server may take before it gets SIGKILL.
MOTO_STOP_TIMEOUT=${MOTO_STOP_TIMEOUT:-15}
MOTO_REGION=us-east-1

declare -gA _MOTO_PID=()
# The server launcher (moto_server.py: `pgrep -af moto_server` finds our
# servers too), the client tool and the (empty) aws CLI config files.
_MOTO_TOOLS=$TMP/.moto-harness
_MOTO_PY=
_MOTO_ENV=()

# --- cleanup -------------------------------------------------------------------

moto_stop_all() {
  local name
  for name in "${!_MOTO_PID[@]}"; do moto_stop "$name" || true; done
}

if declare -F harness_stop_all >/dev/null; then
  # nginx.sh came first: its harness_stop_all, which a test with its own EXIT
  # trap calls, must stop the moto servers as well.
  eval "_moto_prev_$(declare -f harness_stop_all)"
  harness_stop_all() {
    moto_stop_all
    _moto_prev_harness_stop_all
  }
else
  harness_stop_all() { moto_stop_all; }
fi

# The EXIT trap set before this file was sourced (the command string that
# trap -p shows); it runs after ours, with the original status. nginx.sh does
# the same, so the two files chain in either order.
_moto_prev_exit_trap=
# shellcheck disable=SC2120 # its own "set --", not the script's arguments
_moto_read_exit_trap() {
  local shown
  shown=$(trap -p EXIT)
  [[ -n $shown ]] || return 0
  eval "set -- $shown" # trap -- 'CMD' EXIT
  _moto_prev_exit_trap=$3
}
_moto_read_exit_trap
_moto_on_exit() {
  local rc=$?
  set +e # a failed stop must not keep the rest of the cleanup from running
  moto_stop_all
  if [[ -n $_moto_prev_exit_trap ]]; then
    (exit "$rc") # the previous handler reads the script's status from $?
    eval "$_moto_prev_exit_trap"
  fi
  exit "$rc"
}
trap _moto_on_exit EXIT

# --- small helpers ---------------------------------------------------------------

_moto_now_ms() { date +%s%3N; }

# _moto_alive PID : whether PID runs. A child that has exited stays a zombie
# until reaped, and kill -0 succeeds on a zombie: /proc tells.
_moto_alive() {
  local state
  state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# _moto_kill PID : SIGTERM (moto exits at once on it), then SIGKILL if it is
# still there after MOTO_STOP_TIMEOUT; reaps it (it is our child).
_moto_kill() {
  local pid=$1 end
  kill -TERM "$pid" 2>/dev/null || true
  end=$(($(_moto_now_ms) + MOTO_STOP_TIMEOUT * 1000))
  while _moto_alive "$pid" && (($(_moto_now_ms) < end)); do sleep 0.02; done
  if _moto_alive "$pid"; then
    echo "moto.sh: pid $pid ignored SIGTERM for ${MOTO_STOP_TIMEOUT}s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    end=$(($(_moto_now_ms) + 5000))
    while _moto_alive "$pid" && (($(_moto_now_ms) < end)); do sleep 0.02; done
  fi
  wait "$pid" 2>/dev/null || true
}

# A port that was free a moment ago; moto_start retries if another process
# takes it before moto binds it.
_moto_free_port() {
  "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# The environment of every moto, aws and boto3 process: nothing from the
# caller's (no AWS_PROFILE, AWS_ENDPOINT_URL, proxy, MOTO_* or PYTHON* that
# could send traffic elsewhere or change moto's behaviour), plus ARGS.
# _moto_clean_env sets the array _MOTO_ENV to that env command (moto_start
# runs the server with it directly: through a shell function, $! would be the
# pid of a subshell, not moto's); _moto_env runs ARGS with it.
_moto_clean_env() {
  _MOTO_ENV=(env -i PATH="$PATH" HOME="$HOME" TMPDIR="${TMPDIR:-/tmp}" LC_ALL=C.UTF-8 PYTHONUTF8=1
    PYTHONDONTWRITEBYTECODE=1 PYTHONNOUSERSITE=1 PYTHONUNBUFFERED=1 AWS_EC2_METADATA_DISABLED=true)
}
_moto_env() {
  _moto_clean_env
  "${_MOTO_ENV[@]}" "$@"
}

# _moto_python : finds the interpreter with moto, boto3 and awscli (once).
_moto_python() {
  [[ -z $_MOTO_PY ]] || return 0
  local cands=() c shebang
  [[ -n ${MOTO_PYTHON:-} ]] && cands+=("$MOTO_PYTHON")
  c=$(type -P python3) && cands+=("$c")
  # pyenv's, when its shims are not on PATH (lib.sh has moved HOME, so
  # ~/.pyenv is no help).
  [[ -n ${PYENV_ROOT:-} && -x $PYENV_ROOT/shims/python3 ]] && cands+=("$PYENV_ROOT/shims/python3")
  # The machine image's pyenv, even when nothing above points at it.
  for c in /root/.pyenv/versions/*/bin/python3 /usr/local/bin/python3; do
    [[ -x $c ]] && cands+=("$c")
  done
  if c=$(type -P moto_server); then
    shebang=$(head -n 1 "$c")
    [[ $shebang == '#!/'* && $shebang != *' '* ]] && cands+=("${shebang#\#!}")
  fi
  for c in "${cands[@]}"; do
    # sys.executable: the real interpreter, not a pyenv shim (a shim costs a
    # bash start and a version lookup on every call).
    c=$(_moto_env "$c" -c 'import sys, moto, boto3, awscli
print(sys.executable)' 2>/dev/null) && [[ -x $c ]] && { _MOTO_PY=$c; return 0; }
  done
  fail "moto.sh: no python3 with moto, boto3 and awscli (tried: ${cands[*]:-none}); set MOTO_PYTHON"
}

# --- the server ------------------------------------------------------------------

moto_start() {
  local name=${1:?moto_start NAME [BUCKET]} bucket=${2:-mlpack-test}
  [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || fail "moto_start: NAME '$name' must be letters, digits and ._- only"
  # S3's rules, less the dots: a dotted name would not work with
  # virtual-hosted addressing, nor over TLS with a wildcard certificate.
  [[ $bucket =~ ^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$ ]] ||
    fail "moto_start: bucket '$bucket' must be 3-63 lower-case letters, digits and '-'"
  [[ -z ${_MOTO_PID[$name]:-} ]] || fail "moto_start: '$name' is already running"
  _moto_python

  # Starting a NAME again after moto_stop reuses its port (clients configured
  # with MOTO_URL reach it again) and appends to its log.
  local dir=$TMP/moto-$name old_port=''
  mkdir -p "$dir/tmp"
  [[ -f $dir/port ]] && old_port=$(<"$dir/port")
  local log=$dir/server.log
  touch "$log"
  # moto_server's random generator is seeded from NAME before the setup, so
  # a restarted instance hands out the same keys.
  local seed
  seed=$(printf '%s' "$name" | cksum | cut -d' ' -f1)
  local part_min=()
  [[ -n ${MOTO_S3_PART_MIN_SIZE:-} ]] && part_min=(S3_UPLOAD_PART_MIN_SIZE="$MOTO_S3_PART_MIN_SIZE")

  local attempts=10 port pid offset end up
  for ((; attempts > 0; attempts--)); do
    port=${old_port:-$(_moto_free_port)}
    offset=$(stat -c %s "$log")
    echo "=== moto_start $name: 127.0.0.1:$port, $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$log"
    # Not daemonised, no setsid: a background job of the test script, so it
    # stays in the test's process tree. env execs the interpreter, so $! is
    # moto's own pid. MOTO_PORT is what moto puts in URLs it returns.
    # TMPDIR: objects above ~5 MiB spill to (unlinked) temp files; keep them
    # on the test's filesystem.
    _moto_clean_env
    "${_MOTO_ENV[@]}" TMPDIR="$dir/tmp" MOTO_PORT="$port" "${part_min[@]}" \
      "$_MOTO_PY" "$_MOTO_TOOLS/moto_server.py" -H 127.0.0.1 -p "$port" >>"$log" 2>&1 </dev/null &
    pid=$!
    # Werkzeug logs "Running on" once its socket is bound and listening
    # (connections from then on wait in the backlog until it accepts them),
    # and exits at once if the bind fails. The line, in this start's part of
    # the log, also proves that the port is ours, not some other program's.
    end=$(($(_moto_now_ms) + MOTO_START_TIMEOUT * 1000))
    up=
    while _moto_alive "$pid" && (($(_moto_now_ms) < end)); do
      if tail -c +$((offset + 1)) "$log" | grep -qF "Running on http://127.0.0.1:$port"; then
        up=1
        break
      fi
      sleep 0.05
    done
    [[ -n $up ]] && break
    _moto_kill "$pid"
    if tail -c +$((offset + 1)) "$log" | grep -qE 'Address already in use|is in use by another program'; then
      [[ -z $old_port ]] || fail "moto_start: '$name' cannot get its port $old_port back"
      continue # another process took the port since it was found free
    fi
    echo "--- $log ---" >&2
    tail -c +$((offset + 1)) "$log" | tail -n 40 >&2 || true
    fail "moto_start: '$name' did not come up within ${MOTO_START_TIMEOUT}s"
  done
  ((attempts > 0)) || fail "moto_start: '$name' lost its port to another process 10 times"
  _MOTO_PID[$name]=$pid
  echo "$port" >"$dir/port"

  # Users, keys, bucket, then authentication on, then the checks that it is.
  if ! _moto_env MOTO_URL="http://127.0.0.1:$port" MOTO_BUCKET="$bucket" MOTO_SEED="$seed" \
    MOTO_REGION="$MOTO_REGION" "$_MOTO_PY" "$_MOTO_TOOLS/tool.py" setup >"$dir/env.new" 2>"$dir/setup.err"; then
    cat "$dir/setup.err" >&2
    moto_stop "$name"
    fail "moto_start: setting up '$name' failed (server log: $log)"
  fi
  mv "$dir/env.new" "$dir/env"
  moto_use "$name"
}

moto_stop() {
  local name=${1:?moto_stop NAME}
  local pid=${_MOTO_PID[$name]:-}
  [[ -n $pid ]] || return 0
  _moto_kill "$pid"
  unset "_MOTO_PID[$name]"
}

moto_use() {
  local name=${1:?moto_use NAME}
  [[ -n ${_MOTO_PID[$name]:-} ]] || fail "moto_use: '$name' is not running"
  local dir=$TMP/moto-$name
  # Written by tool.py setup: MOTO_NAME=VALUE lines, values from a safe set.
  local line
  while IFS= read -r line; do
    [[ $line =~ ^(MOTO_[A-Z_]+)=([A-Za-z0-9+/=._:-]*)$ ]] || fail "moto_use: bad line in $dir/env: $line"
    printf -v "${BASH_REMATCH[1]}" '%s' "${BASH_REMATCH[2]}"
  done <"$dir/env"
  MOTO_PORT=$(<"$dir/port")
  MOTO_URL=http://127.0.0.1:$MOTO_PORT
  MOTO_LOG=$dir/server.log
}

# --- clients -----------------------------------------------------------------------

_moto_need() {
  [[ -n ${MOTO_URL:-} && -n ${MOTO_BUCKET:-} && -n ${MOTO_ACCESS_KEY_ID:-} ]] ||
    { echo "$1: no moto instance (moto_start first)" >&2; return 2; }
  _moto_python
}

moto_aws_as() {
  local akid=${1:?moto_aws_as KEY_ID SECRET ARGS...} secret=${2?moto_aws_as KEY_ID SECRET ARGS...}
  shift 2
  _moto_need moto_aws || return
  # awscli v1 has no pager; AWS_PAGER is for v2. Checksums only where S3
  # requires them: newer botocore adds CRC32 headers (or aws-chunked bodies)
  # to every upload by default, which is not what a test means to send.
  _moto_env AWS_ACCESS_KEY_ID="$akid" AWS_SECRET_ACCESS_KEY="$secret" \
    AWS_DEFAULT_REGION="$MOTO_REGION" AWS_REGION="$MOTO_REGION" \
    AWS_CONFIG_FILE="$_MOTO_TOOLS/aws-config" AWS_SHARED_CREDENTIALS_FILE="$_MOTO_TOOLS/aws-credentials" \
    AWS_PAGER= AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard \
    AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required \
    "$_MOTO_PY" -m awscli --endpoint-url "$MOTO_URL" --region "$MOTO_REGION" "$@"
}

moto_aws() { moto_aws_as "${MOTO_ACCESS_KEY_ID:-}" "${MOTO_SECRET_ACCESS_KEY:-}" "$@"; }

# _moto_tool CMD ARGS... : tool.py as the S3 user, one process per call.
_moto_tool() {
  _moto_env MOTO_URL="$MOTO_URL" MOTO_BUCKET="$MOTO_BUCKET" MOTO_REGION="$MOTO_REGION" \
    MOTO_ACCESS_KEY_ID="$MOTO_ACCESS_KEY_ID" MOTO_SECRET_ACCESS_KEY="$MOTO_SECRET_ACCESS_KEY" \
    "$_MOTO_PY" "$_MOTO_TOOLS/tool.py" "$@"
}

# For the listing helpers: the error marker on stdout when the tool fails.
_moto_listing() {
  local what=$1 rc=0
  shift
  if ! _moto_need "$what"; then
    echo "!moto-error $what: no moto instance"
    return 2
  fi
  _moto_tool "$@" || rc=$?
  if ((rc != 0)); then
    echo "!moto-error $what failed (exit $rc)"
    return 2
  fi
}

moto_keys() { _moto_listing moto_keys keys "${1?moto_keys PREFIX}"; }
moto_state() { _moto_listing moto_state state "${1?moto_state PREFIX}"; }
moto_open_multipart_uploads() { _moto_listing moto_open_multipart_uploads uploads "${1:-}"; }

moto_cat() {
  _moto_need moto_cat || return 2
  _moto_tool cat "${1:?moto_cat KEY}"
}

moto_put() {
  local key=${1:?moto_put KEY FILE} file=${2:?moto_put KEY FILE}
  [[ -f $file ]] || { echo "moto_put: no file $file" >&2; return 2; }
  _moto_need moto_put || return 2
  _moto_tool put "$key" "$file"
}

moto_delete() {
  _moto_need moto_delete || return 2
  _moto_tool delete "${1:?moto_delete KEY}"
}

# --- the Python side -----------------------------------------------------------
# Written once per test, into $TMP: only this file is part of the project.

mkdir -p "$_MOTO_TOOLS"
: >"$_MOTO_TOOLS/aws-credentials"
cat >"$_MOTO_TOOLS/aws-config" <<'EOF'
[default]
s3 =
  addressing_style = path
EOF

cat >"$_MOTO_TOOLS/moto_server.py" <<'EOF'
# moto_server (moto.server.main, same arguments) with three fixes that make
# its S3 behave like AWS where the tests need it. Generated by
# tests/cli/moto.sh. Each fix names what it replaces: if moto changes them,
# the server fails to start (AttributeError in the log) instead of silently
# running unfixed.
import functools
import sys
import urllib.parse

import moto.server
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.access_control import S3IAMRequest
from moto.s3.exceptions import NoSuchUpload, S3AccessDeniedError
from moto.s3.models import S3Backend

_UNRESERVED = "-_.~"


def _canonical_target(raw):
    """SigV4's canonical URI and query of a request target as sent: each
    path byte and each query name and value URI-encoded (A-Z a-z 0-9 -._~
    kept, '/' kept in the path), the query sorted, as AWS computes them."""
    if not raw.startswith("/"):  # absolute form, http://host/path?query
        parts = urllib.parse.urlsplit(raw)
        raw = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    path, _, query = raw.partition("?")
    path = urllib.parse.quote(urllib.parse.unquote_to_bytes(path), safe="/" + _UNRESERVED)
    pairs = []
    for item in query.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append(tuple(urllib.parse.quote(urllib.parse.unquote_to_bytes(s), safe=_UNRESERVED)
                               for s in (name, value)))
    pairs.sort()
    return path + ("?" + "&".join(f"{n}={v}" for n, v in pairs) if pairs else "")


_authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action


@functools.wraps(_authenticate)
def _authenticate_fixed(self, iam_request_cls, resource="*"):
    environ = getattr(getattr(self, "request", None), "environ", None)
    auth_on = ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
    if not auth_on or iam_request_cls is not S3IAMRequest or environ is None:
        return _authenticate(self, iam_request_cls, resource)
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    # Fix 2: an unsigned request (no Authorization header, not a presigned
    # URL) is anonymous; S3 answers 403 AccessDenied for a private bucket.
    # moto fails with KeyError: 'HTTP_AUTHORIZATION', a 500.
    if "Authorization" not in self.headers and "X-Amz-Signature=" not in raw:
        raise S3AccessDeniedError()
    if not raw:
        return _authenticate(self, iam_request_cls, resource)
    # Fix 1: moto recomputes the signature over Werkzeug's request.url, in
    # which %-escapes are partly decoded (prefix=a%2F arrives as prefix=a/,
    # /a%2Bb as /a+b), so it rejects correctly signed requests whose query
    # or path has any escape other than %20: even the aws CLI's
    # list-objects-v2 --prefix a/ (getmoto/moto#5948, PR #5949 unmerged).
    # Sign over the canonical form of the target as sent, as AWS does.
    saved = self.uri
    self.uri = "http://moto.invalid" + _canonical_target(raw)
    try:
        return _authenticate(self, iam_request_cls, resource)
    finally:
        self.uri = saved


ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_fixed


# Fix 3: UploadPart, UploadPartCopy and CompleteMultipartUpload with an
# unknown (never created, aborted or completed) upload id: S3 answers 404
# NoSuchUpload; moto fails with a KeyError, a 500 (AbortMultipartUpload and
# ListParts already answer NoSuchUpload).
def _require_upload(method):
    @functools.wraps(method)
    def fixed(self, bucket_name, multipart_id, *args, **kwargs):
        if multipart_id not in self.get_bucket(bucket_name).multiparts:
            raise NoSuchUpload(upload_id=multipart_id)
        return method(self, bucket_name, multipart_id, *args, **kwargs)
    return fixed


for _name in ("upload_part", "upload_part_copy", "complete_multipart_upload"):
    setattr(S3Backend, _name, _require_upload(getattr(S3Backend, _name)))

if __name__ == "__main__":
    sys.exit(moto.server.main(sys.argv[1:]))
EOF

cat >"$_MOTO_TOOLS/tool.py" <<'EOF'
# Client side of tests/cli/moto.sh (generated by it). Configuration from the
# environment: MOTO_URL, MOTO_BUCKET, MOTO_REGION, MOTO_ACCESS_KEY_ID,
# MOTO_SECRET_ACCESS_KEY (MOTO_SEED for setup). Exit 0 on success; for cat, 1
# if the key does not exist; 2 on any other error, with one line on stderr.
#
# setup uses boto3. The helpers speak S3 with the standard library and their
# own SigV4 signer: a helper runs in ~30 ms instead of the ~350 ms that
# importing boto3 costs, which adds up in suites that list the bucket after
# every step. Every request they make passes moto's signature check, so the
# signer is checked on each use.
import datetime
import hashlib
import hmac
import http.client
import os
import sys
import urllib.parse
import xml.etree.ElementTree as ET

URL = os.environ["MOTO_URL"]
BUCKET = os.environ["MOTO_BUCKET"]
REGION = os.environ["MOTO_REGION"]
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class S3Error(Exception):
    def __init__(self, status, code, message):
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status, self.code = status, code


def _enc(text, safe=""):
    # SigV4's URI encoding: A-Z a-z 0-9 - _ . ~ kept, all else %XX (UTF-8).
    return urllib.parse.quote(text, safe="-_.~" + safe)


def s3(method, key=None, query=(), body=b"", ok=(200,)):
    """One signed path-style request on BUCKET (on KEY if given); returns
    (status, body) or raises S3Error."""
    ak, sk = os.environ["MOTO_ACCESS_KEY_ID"], os.environ["MOTO_SECRET_ACCESS_KEY"]
    url = urllib.parse.urlsplit(URL)
    path = "/" + BUCKET + ("/" + _enc(key, "/") if key is not None else "")
    canonical_query = "&".join(sorted(f"{_enc(k)}={_enc(v)}" for k, v in query))
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(body).hexdigest()
    headers = {"host": url.netloc, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
    signed = ";".join(headers)  # already in sorted order
    canonical = "\n".join([method, path, canonical_query,
                           "".join(f"{k}:{v}\n" for k, v in headers.items()), signed, payload])
    scope = f"{day}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + sk).encode()
    for part in (day, REGION, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ak}/{scope}, "
                                f"SignedHeaders={signed}, Signature={signature}")
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        conn.request(method, path + ("?" + canonical_query if canonical_query else ""),
                     body=body if method in ("PUT", "POST") else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    if resp.status not in ok:
        code, message = "", data[:200].decode(errors="replace")
        try:
            err = ET.fromstring(data)
            code, message = err.findtext("Code", ""), err.findtext("Message", "")
        except ET.ParseError:
            pass
        raise S3Error(resp.status, code, message)
    return resp.status, data


def listing(query, item_tags, markers):
    """Every ITEM_TAGS element of a paged bucket listing; MARKERS maps each
    query parameter of the next page to the response element giving it."""
    query = dict(query)
    while True:
        root = ET.fromstring(s3("GET", query=sorted(query.items()))[1])
        for item in root:
            if item.tag in [NS + t for t in item_tags]:
                yield item
        if root.findtext(NS + "IsTruncated") != "true":
            return
        nxt = {p: root.findtext(NS + e, "") for p, e in markers.items()}
        if not any(nxt.values()):
            raise RuntimeError(f"truncated listing without {', '.join(markers.values())}")
        query.update(nxt)


def keys(prefix):
    found = sorted(o.findtext(NS + "Key")[len(prefix):] for o in listing(
        {"list-type": "2", "prefix": prefix}, ["Contents"],
        {"continuation-token": "NextContinuationToken"}))
    sys.stdout.write("".join(k + "\n" for k in found))


def state(prefix):
    lines = []
    for v in listing({"versions": "", "prefix": prefix}, ["Version", "DeleteMarker"],
                     {"key-marker": "NextKeyMarker", "version-id-marker": "NextVersionIdMarker"}):
        lines.append("\t".join((v.findtext(NS + "Key")[len(prefix):], v.findtext(NS + "VersionId"),
                                v.findtext(NS + "ETag", "-"),
                                "latest" if v.findtext(NS + "IsLatest") == "true" else "old",
                                "object" if v.tag == NS + "Version" else "delete-marker")))
    sys.stdout.write("".join(line + "\n" for line in sorted(lines)))


def uploads(prefix):
    print(sum(1 for _ in listing({"uploads": "", "prefix": prefix}, ["Upload"],
                                 {"key-marker": "NextKeyMarker",
                                  "upload-id-marker": "NextUploadIdMarker"})))


def cat(key):
    try:
        body = s3("GET", key)[1]
    except S3Error as e:
        if e.code == "NoSuchKey":
            sys.stderr.write(f"moto_cat: no key {key} in {BUCKET}\n")
            sys.exit(1)
        raise
    sys.stdout.buffer.write(body)


def put(key, path):
    with open(path, "rb") as f:
        s3("PUT", key, body=f.read())


def delete(key):
    s3("DELETE", key, ok=(204,))


def setup():
    import json
    import urllib.request

    import boto3
    import botocore.config
    from botocore.exceptions import ClientError

    config = botocore.config.Config(
        s3={"addressing_style": "path"},
        retries={"max_attempts": 1, "mode": "standard"},  # failures show at once
        connect_timeout=10, read_timeout=60)

    def client(service, key_id, secret):
        return boto3.session.Session().client(
            service, endpoint_url=URL, region_name=REGION, config=config,
            aws_access_key_id=key_id, aws_secret_access_key=secret)

    def moto_api(path, body):
        req = urllib.request.Request(URL + path, data=body, method="POST",
                                     headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read().decode()

    def error_of(call):
        """(HTTP status, error code) of a call; (200, None) if it works."""
        try:
            call()
        except ClientError as e:
            return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
        return 200, None

    # Seeded first: the same NAME gets the same user ids and keys each time.
    moto_api("/moto-api/seed?a=" + os.environ["MOTO_SEED"], b"")
    # Authentication is still off: any key will do.
    iam = client("iam", "AKIAMOTOSETUP0000000", "setup")
    users = {}
    for user, statement in (
        ("mlpack-test-s3", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
        # No S3 at all: every S3 request is implicitly denied (403
        # AccessDenied), the usual case of a key without the permission.
        ("mlpack-test-no-s3", {"Effect": "Allow", "Action": "iam:GetUser",
                               "Resource": "arn:aws:iam::*:user/mlpack-test-no-s3"}),
    ):
        iam.create_user(UserName=user)
        arn = iam.create_policy(PolicyName=user + "-policy", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [statement]}))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        users[user] = (key["AccessKeyId"], key["SecretAccessKey"])
    good, denied = users["mlpack-test-s3"], users["mlpack-test-no-s3"]
    setup_s3 = client("s3", *good)
    setup_s3.create_bucket(Bucket=BUCKET)
    # Each write gets a version id: what lets moto_state see a rewrite of the
    # same bytes within one second (LastModified has whole seconds only).
    setup_s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})

    # SigV4 checking on: moto checks signatures and IAM policies only after
    # INITIAL_NO_AUTH_ACTION_COUNT requests; 0 makes it check from now on.
    moto_api("/moto-api/reset-auth", b"0")

    # Proof that it is on. A prefix with "/" also proves the launcher's fix of
    # the signature check (stock moto answers SignatureDoesNotMatch to it).
    def probe(key_id, secret):
        return lambda: client("s3", key_id, secret).list_objects_v2(
            Bucket=BUCKET, Prefix="moto-harness/probe/")

    checks = [
        ("the S3 user", error_of(probe(*good)), (200, None)),
        ("a wrong secret", error_of(probe(good[0], "wrong" + good[1][5:])),
         (403, "SignatureDoesNotMatch")),
        ("an unknown key id", error_of(probe("AKIAIOSFODNN7EXAMPLE", good[1])),
         (403, "InvalidAccessKeyId")),
        ("the user without S3", error_of(probe(*denied)), (403, "AccessDenied")),
    ]
    bad = [f"{what}: got {got}, expected {want}" for what, got, want in checks if got != want]
    if bad:
        sys.exit("moto setup: authentication is not as expected: " + "; ".join(bad))
    for name, value in (("MOTO_BUCKET", BUCKET), ("MOTO_REGION", REGION),
                        ("MOTO_ACCESS_KEY_ID", good[0]), ("MOTO_SECRET_ACCESS_KEY", good[1]),
                        ("MOTO_DENIED_ACCESS_KEY_ID", denied[0]),
                        ("MOTO_DENIED_SECRET_ACCESS_KEY", denied[1])):
        print(f"{name}={value}")


COMMANDS = {"setup": setup, "keys": keys, "state": state, "uploads": uploads,
            "cat": cat, "put": put, "delete": delete}

if __name__ == "__main__":
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except SystemExit:
        raise
    except Exception as e:  # one line, not a traceback, for the test log
        sys.stderr.write(f"moto.sh {sys.argv[1]}: {type(e).__name__}: {e}\n")
        sys.exit(2)
EOF

fi # _MOTO_HARNESS_LOADED
