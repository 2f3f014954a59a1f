# Private Google Cloud Storage servers (tests/tools/gcs_server.py, a strict
# GCS JSON API server) for the CLI tests of GCS remotes. Source it after
# lib.sh (and after nginx.sh / moto.sh if the test uses them too; any order):
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   source "$MLPACK_TESTS_DIR/cli/gcs.sh"
#
# Needs Debian's python3 (lib.sh's $PY, standard library only), openssl and
# curl. Traffic stays on 127.0.0.1.
#
#   gcs_start NAME [--bucket BUCKET] [--no-auth] [--public] [--token-lifetime SECONDS]
#             [--unaligned-chunks reject|truncate] [-- SERVER-OPTIONS...]
#       Starts a server on 127.0.0.1 (port chosen by the server itself, no
#       race), as a background job of the test (so CTest's timeout kills it
#       with the test), with the bucket BUCKET (default mlpack-test) and a
#       test service account: an RSA 2048 key pair made with openssl and
#       $GCS_SA_FILE, a service-account JSON file as the Cloud console
#       writes them (type service_account, project_id, private_key_id,
#       private_key in PKCS#8 PEM, client_email, client_id, token_uri =
#       the server's /token, ...). $GCS_SA_WRONG_FILE has the same
#       client_email but another key pair: its JWTs get 400 invalid_grant
#       "Invalid JWT Signature.". Every storage request needs a bearer token
#       (401 otherwise); tokens come from POST /token (JWT-bearer grant),
#       from the metadata endpoint
#       (GET /computeMetadata/v1/instance/service-accounts/default/token
#       with "Metadata-Flavor: Google"; point GCE_METADATA_HOST at
#       $GCS_METADATA_HOST), or are $GCS_TOKEN (always valid, full access).
#       Options: --no-auth (no credentials needed), --public (anonymous reads
#       of the bucket), --token-lifetime (seconds an issued token lives,
#       default 3599: make it short to test refreshing), --unaligned-chunks
#       (see gcs_server.py), and after "--" any other gcs_server.py serve
#       option. Sets, for the instance just started (shell variables, not
#       exported):
#         GCS_PORT GCS_URL (http://127.0.0.1:PORT, no trailing slash; the
#           JSON API is $GCS_URL/storage/v1, uploads $GCS_URL/upload/storage/v1)
#         GCS_BUCKET GCS_PROJECT GCS_SA_EMAIL
#         GCS_SA_FILE GCS_SA_WRONG_FILE   service-account JSON files
#         GCS_TOKEN_URI (= the files' token_uri) GCS_METADATA_HOST (127.0.0.1:PORT)
#         GCS_TOKEN          a static token with full access
#         GCS_DENIED_TOKEN   a token that authenticates but may do nothing (403)
#         GCS_ROOT           the on-disk store (layout below)
#         GCS_LOG            the request log (format below)
#         GCS_SERVER_LOG     the server's stdout/stderr
#       Several instances with different NAMEs may run at once; the helpers
#       act on the one the GCS_* variables name (gcs_use switches).
#       Starting a NAME again after gcs_stop reuses its port, store, keys,
#       service-account files, static tokens and issued tokens: a server
#       that went down and came back with its data, as GCS does (objects and
#       open resumable sessions survive; a chunk in flight is lost).
#   gcs_stop NAME       stops the instance; returns once the process is gone
#   gcs_stop_all        stops every instance still running
#   gcs_use NAME        points the GCS_* variables at a running instance
#
#   Store helpers, on $GCS_BUCKET, reading and writing $GCS_ROOT directly
#   (no HTTP: they work while the server is down too), ~40 ms each. NAME is
#   a whole object name; PREFIX a plain string prefix (give the trailing
#   "/": "a/b" also matches "a/bc"):
#   gcs_keys PREFIX         object names under PREFIX, relative to it, sorted
#                           by code point (= LC_ALL=C), one a line
#   gcs_cat NAME            the object's bytes on stdout; exit 1 if missing
#   gcs_put NAME FILE       stores FILE's bytes as NAME: a new generation,
#                           like any write through the API
#   gcs_delete NAME         deletes it; exit 1 if missing
#   gcs_state PREFIX        "GENERATION METAGENERATION MD5-HEX NAME" per
#                           object under PREFIX (NAME relative to it, last
#                           field), sorted by name. Every write changes it,
#                           even of the same bytes: each gets a new
#                           generation. Reads do not.
#   gcs_open_sessions [PREFIX]  how many resumable sessions are open
#                           (created, neither finalised nor cancelled nor
#                           failed) for names under PREFIX
#   On failure gcs_keys, gcs_state and gcs_open_sessions print the error to
#   stderr, a line starting with "!gcs-error" to stdout (so a comparison with
#   an expected listing, even an empty one, cannot pass by accident) and
#   return 2.
#
#   Control helpers (the server's /_test/ API, see gcs_server.py):
#   gcs_fault JSON          arms a fault rule, e.g.
#                             gcs_fault '{"kind": "cut", "path": "upload_id="}'
#                             gcs_fault '{"kind": "status", "status": 503, "count": 2}'
#   gcs_faults_clear        disarms every rule
#   gcs_stats               {"requests", "tokens_issued", "tokens_by_grant",
#                           "faults_fired", "open_sessions"} on stdout
#   gcs_expire_tokens       every issued token expires now (clients must
#                           refresh on the 401)
#   gcs_wait_log COUNT [SECONDS]  waits until $GCS_LOG has COUNT lines
#   gcs_jwt [gcs_server.py jwt options]  a signed JWT assertion for
#                           $GCS_SA_FILE (--sa-file, --scope, --aud,
#                           --iat-offset, --lifetime, --sub, --alg)
#
# Request log ($GCS_LOG), one line per request, written as soon as its
# status is known (before the client has read the answer); requests to
# /_test/ are not logged. Fields, separated by single spaces:
#   1 method  2 request target as sent (%-encoded)  3 status or "-" (none
#   sent: cut, reset, client gone)  4 request body bytes received  5 fault
#   kind or "-"  6 connection serial  7 the request's Content-Range without
#   "bytes " (0-262143/*, */*, ...) or "-"
#
# On-disk layout of $GCS_ROOT (details at the top of gcs_server.py):
#   buckets/BUCKET/objects/KEY.data   the bytes;  KEY.json  the metadata
#     (name, generation, metageneration, size, md5Hash, crc32c, ...);
#     KEY = the name with bytes outside A-Za-z0-9._~- as %XX ('/' -> %2F)
#   uploads/ID/session.json, uploads/ID/data   resumable sessions
#   .lock   flock'd by readers (shared) and writers (exclusive): a raw
#     `cat` of KEY.data without it may see a write half done; the helpers
#     take it.
#
# Cleanup: this file wraps the EXIT trap set before it (lib.sh's, or
# nginx.sh's / moto.sh's, which wrap lib.sh's): on exit every GCS server
# still running is stopped, then the previous handler runs with the script's
# exit status. It also makes harness_stop_all (nginx.sh, moto.sh) stop the GCS
# servers, or defines it. A test that sets its own EXIT trap after sourcing
# this file must call harness_stop_all (or gcs_stop_all) in it.

# shellcheck disable=SC2034 # GCS_* are set for the caller
if [[ -z ${TMP:-} ]] || ! declare -F fail >/dev/null; then
  echo "gcs.sh: source lib.sh first" >&2
  exit 1
fi

if [[ -z ${_GCS_HARNESS_LOADED:-} ]]; then
_GCS_HARNESS_LOADED=1

GCS_SERVER=$MLPACK_TESTS_DIR/tools/gcs_server.py
# The server imports only the standard library and builds its CRC32C tables
# at start: well under a second, more next to a compiler.
GCS_START_TIMEOUT=${GCS_START_TIMEOUT:-30}
GCS_STOP_TIMEOUT=${GCS_STOP_TIMEOUT:-15}
GCS_PROJECT=mlpack-test-project
GCS_SA_EMAIL=mlpack-test@$GCS_PROJECT.iam.gserviceaccount.com

declare -gA _GCS_PID=()

# --- cleanup -------------------------------------------------------------------

gcs_stop_all() {
  local name
  for name in "${!_GCS_PID[@]}"; do gcs_stop "$name" || true; done
}

# harness_stop_all, which a test with its own EXIT trap calls, must stop the
# GCS servers as well: wrap the one nginx.sh or moto.sh defined, or define
# it. nginx.sh defines its own whatever came before, so a test that sources
# it after this file would lose ours: gcs_start checks again (a second
# gcs_stop_all in the chain is harmless).
_gcs_hook_harness_stop_all() {
  if declare -F harness_stop_all >/dev/null; then
    declare -f harness_stop_all | grep -qw gcs_stop_all && return 0
    eval "_gcs_prev_$(declare -f harness_stop_all)"
    harness_stop_all() {
      gcs_stop_all
      _gcs_prev_harness_stop_all
    }
  else
    harness_stop_all() { gcs_stop_all; }
  fi
}
_gcs_hook_harness_stop_all

# The EXIT trap set before this file was sourced (the command string that
# trap -p shows); it runs after ours, with the original status. nginx.sh and
# moto.sh do the same, so the files chain in any order.
_gcs_prev_exit_trap=
# shellcheck disable=SC2120 # its own "set --", not the script's arguments
_gcs_read_exit_trap() {
  local shown
  shown=$(trap -p EXIT)
  [[ -n $shown ]] || return 0
  eval "set -- $shown" # trap -- 'CMD' EXIT
  _gcs_prev_exit_trap=$3
}
_gcs_read_exit_trap
_gcs_on_exit() {
  local rc=$?
  set +e # a failed stop must not keep the rest of the cleanup from running
  gcs_stop_all
  if [[ -n $_gcs_prev_exit_trap ]]; then
    (exit "$rc") # the previous handler reads the script's status from $?
    eval "$_gcs_prev_exit_trap"
  fi
  exit "$rc"
}
trap _gcs_on_exit EXIT

# --- small helpers ---------------------------------------------------------------

_gcs_now_ms() { date +%s%3N; }

# _gcs_alive PID : whether PID runs. A child that has exited stays a zombie
# until reaped, and kill -0 succeeds on a zombie: /proc tells.
_gcs_alive() {
  local state
  state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# _gcs_kill PID : SIGTERM (the server exits at once on it), then SIGKILL if
# it is still there after GCS_STOP_TIMEOUT; reaps it (it is our child).
_gcs_kill() {
  local pid=$1 end
  kill -TERM "$pid" 2>/dev/null || true
  end=$(($(_gcs_now_ms) + GCS_STOP_TIMEOUT * 1000))
  while _gcs_alive "$pid" && (($(_gcs_now_ms) < end)); do sleep 0.02; done
  if _gcs_alive "$pid"; then
    echo "gcs.sh: pid $pid ignored SIGTERM for ${GCS_STOP_TIMEOUT}s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    end=$(($(_gcs_now_ms) + 5000))
    while _gcs_alive "$pid" && (($(_gcs_now_ms) < end)); do sleep 0.02; done
  fi
  wait "$pid" 2>/dev/null || true
}

# The server and the store tool run with a clean environment: nothing from
# the caller's (PYTHON*, proxies, locale) can change what they do.
# _GCS_ENV is that env command: gcs_start runs the server with it directly
# (through a shell function, $! would be the pid of a subshell, not the
# server's); _gcs_env runs ARGS with it.
_GCS_ENV=(env -i PATH="$PATH" HOME="$HOME" TMPDIR="${TMPDIR:-/tmp}" LC_ALL=C.UTF-8
  PYTHONDONTWRITEBYTECODE=1 PYTHONNOUSERSITE=1 PYTHONUNBUFFERED=1)
_gcs_env() { "${_GCS_ENV[@]}" "$@"; }

# _gcs_keypair DIR NAME : DIR/NAME.key (PKCS#8 "BEGIN PRIVATE KEY", what
# Google's service-account files hold) and DIR/NAME.pub.
_gcs_keypair() {
  local dir=$1 name=$2
  {
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/$name.key" &&
      openssl pkey -in "$dir/$name.key" -pubout -out "$dir/$name.pub"
  } 2>"$dir/$name.err" || { cat "$dir/$name.err" >&2; fail "gcs_start: openssl could not make a key pair"; }
  chmod 600 "$dir/$name.key"
}

# _gcs_sa_file KEY OUT KEY_ID TOKEN_URI BASE_URL : a service-account JSON
# file. Every URL in it points at the test server, so no client following
# one leaves the machine.
_gcs_sa_file() {
  "$PY" - "$@" <<'EOF'
import json, os, sys
key, out, key_id, token_uri, base = sys.argv[1:]
sa = {
    "type": "service_account",
    "project_id": os.environ["GCS_PROJECT"],
    "private_key_id": key_id,
    "private_key": open(key).read(),
    "client_email": os.environ["GCS_SA_EMAIL"],
    "client_id": "1" + key_id[:20].translate(str.maketrans("abcdef", "123456")),
    "auth_uri": base + "/o/oauth2/auth",
    "token_uri": token_uri,
    "auth_provider_x509_cert_url": base + "/oauth2/v1/certs",
    "client_x509_cert_url": base + "/robot/v1/metadata/x509/" + os.environ["GCS_SA_EMAIL"],
    "universe_domain": "googleapis.com",
}
fd = os.open(out + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump(sa, f, indent=2)
    f.write("\n")
os.replace(out + ".tmp", out)
EOF
}

# --- the server ------------------------------------------------------------------

gcs_start() {
  local name=${1:?gcs_start NAME [options]}
  shift
  local bucket=mlpack-test lifetime='' unaligned='' public='' opts=()
  while (($#)); do
    case $1 in
      --bucket) bucket=${2:?--bucket BUCKET}; shift 2 ;;
      --no-auth) opts+=(--no-auth); shift ;;
      --public) public=1; shift ;;
      --token-lifetime) lifetime=${2:?--token-lifetime SECONDS}; shift 2 ;;
      --unaligned-chunks) unaligned=${2:?--unaligned-chunks reject|truncate}; shift 2 ;;
      --) shift; opts+=("$@"); break ;;
      *) fail "gcs_start: unknown option $1" ;;
    esac
  done
  [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || fail "gcs_start: NAME '$name' must be letters, digits and ._- only"
  # GCS's rules, less the dots (a dotted name needs domain verification).
  [[ $bucket =~ ^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$ ]] ||
    fail "gcs_start: bucket '$bucket' must be 3-63 lower-case letters, digits, '-' and '_'"
  [[ -z ${_GCS_PID[$name]:-} ]] || fail "gcs_start: '$name' is already running"
  _gcs_hook_harness_stop_all
  command -v openssl >/dev/null || fail "gcs_start: openssl is missing: run scripts/install-deps.sh --test"
  [[ -n $public ]] && opts+=(--public-bucket "$bucket")
  [[ -n $lifetime ]] && opts+=(--token-lifetime "$lifetime")
  [[ -n $unaligned ]] && opts+=(--unaligned-chunks "$unaligned")

  # A NAME started before keeps its port, store, keys and tokens.
  local dir=$TMP/gcs-$name old_port=''
  mkdir -p "$dir/keys" "$dir/root"
  [[ -f $dir/port ]] && old_port=$(<"$dir/port")
  if [[ ! -f $dir/keys/sa.key ]]; then
    _gcs_keypair "$dir/keys" sa
    _gcs_keypair "$dir/keys" wrong
    openssl rand -hex 20 >"$dir/keys/sa.id"
    openssl rand -hex 20 >"$dir/keys/wrong.id"
    echo "mlpack-test-static-$(openssl rand -hex 16)" >"$dir/keys/static-token"
    echo "mlpack-test-denied-$(openssl rand -hex 16)" >"$dir/keys/denied-token"
  fi
  local key_id static denied
  key_id=$(<"$dir/keys/sa.id") static=$(<"$dir/keys/static-token") denied=$(<"$dir/keys/denied-token")

  local log=$dir/server.log
  touch "$log" "$dir/requests.log"
  echo "=== gcs_start $name: $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$log"
  rm -f "$dir/port.live"
  # Not daemonised, no setsid: a background job of the test script, in its
  # process tree. env execs the interpreter, so $! is the server's own pid
  # (`pgrep -af gcs_server` finds it).
  "${_GCS_ENV[@]}" "$PY" "$GCS_SERVER" serve --root "$dir/root" --port "${old_port:-0}" \
    --port-file "$dir/port.live" --log "$dir/requests.log" --bucket "$bucket" \
    --static-token "$static" --denied-token "$denied" --token-file "$dir/tokens" \
    --service-account-email "$GCS_SA_EMAIL" --service-account-public-key "$dir/keys/sa.pub" \
    --service-account-key-id "$key_id" --project-id "$GCS_PROJECT" \
    "${opts[@]}" >>"$log" 2>&1 </dev/null &
  local pid=$! end
  # The server binds its port (any free one the first time) and then writes
  # the port file atomically: once it exists, connections are accepted.
  end=$(($(_gcs_now_ms) + GCS_START_TIMEOUT * 1000))
  while [[ ! -s $dir/port.live ]] && _gcs_alive "$pid" && (($(_gcs_now_ms) < end)); do
    sleep 0.02
  done
  if [[ ! -s $dir/port.live ]] || ! _gcs_alive "$pid"; then
    _gcs_kill "$pid"
    echo "--- $log ---" >&2
    tail -n 40 "$log" >&2 || true
    [[ -n $old_port ]] && grep -q 'Address already in use' "$log" &&
      fail "gcs_start: '$name' cannot get its port $old_port back"
    fail "gcs_start: '$name' did not come up within ${GCS_START_TIMEOUT}s"
  fi
  _GCS_PID[$name]=$pid
  local port
  port=$(<"$dir/port.live")
  echo "$port" >"$dir/port"

  local url=http://127.0.0.1:$port
  if [[ ! -f $dir/sa.json ]]; then
    GCS_PROJECT=$GCS_PROJECT GCS_SA_EMAIL=$GCS_SA_EMAIL \
      _gcs_sa_file "$dir/keys/sa.key" "$dir/sa.json" "$key_id" "$url/token" "$url" ||
      fail "gcs_start: could not write the service-account file"
    GCS_PROJECT=$GCS_PROJECT GCS_SA_EMAIL=$GCS_SA_EMAIL \
      _gcs_sa_file "$dir/keys/wrong.key" "$dir/sa-wrong.json" "$(<"$dir/keys/wrong.id")" "$url/token" "$url" ||
      fail "gcs_start: could not write the service-account file"
  fi
  printf '%s\n' "$bucket" >"$dir/bucket"
  gcs_use "$name"
}

gcs_stop() {
  local name=${1:?gcs_stop NAME}
  local pid=${_GCS_PID[$name]:-}
  [[ -n $pid ]] || return 0
  _gcs_kill "$pid"
  unset "_GCS_PID[$name]"
}

gcs_use() {
  local name=${1:?gcs_use NAME}
  [[ -n ${_GCS_PID[$name]:-} ]] || fail "gcs_use: '$name' is not running"
  local dir=$TMP/gcs-$name
  GCS_PORT=$(<"$dir/port")
  GCS_URL=http://127.0.0.1:$GCS_PORT
  GCS_BUCKET=$(<"$dir/bucket")
  GCS_ROOT=$dir/root
  GCS_LOG=$dir/requests.log
  GCS_SERVER_LOG=$dir/server.log
  GCS_SA_FILE=$dir/sa.json
  GCS_SA_WRONG_FILE=$dir/sa-wrong.json
  GCS_TOKEN_URI=$GCS_URL/token
  GCS_METADATA_HOST=127.0.0.1:$GCS_PORT
  GCS_TOKEN=$(<"$dir/keys/static-token")
  GCS_DENIED_TOKEN=$(<"$dir/keys/denied-token")
}

# --- store helpers -------------------------------------------------------------------

_gcs_need() {
  [[ -n ${GCS_ROOT:-} && -n ${GCS_BUCKET:-} ]] ||
    { echo "$1: no GCS instance (gcs_start first)" >&2; return 2; }
}

_gcs_store() { _gcs_env "$PY" "$GCS_SERVER" store --root "$GCS_ROOT" "$@"; }

# For the listing helpers: the error marker on stdout when the tool fails.
_gcs_listing() {
  local what=$1 rc=0
  shift
  if ! _gcs_need "$what"; then
    echo "!gcs-error $what: no GCS instance"
    return 2
  fi
  _gcs_store "$@" || rc=$?
  if ((rc != 0)); then
    echo "!gcs-error $what failed (exit $rc)"
    return 2
  fi
}

gcs_keys() { _gcs_listing gcs_keys keys "${GCS_BUCKET:-}" "${1?gcs_keys PREFIX}"; }
gcs_state() { _gcs_listing gcs_state state "${GCS_BUCKET:-}" "${1?gcs_state PREFIX}"; }
gcs_open_sessions() { _gcs_listing gcs_open_sessions sessions "${GCS_BUCKET:-}" "${1:-}"; }

gcs_cat() {
  _gcs_need gcs_cat || return 2
  _gcs_store cat "$GCS_BUCKET" "${1:?gcs_cat NAME}"
}

gcs_put() {
  local name=${1:?gcs_put NAME FILE} file=${2:?gcs_put NAME FILE}
  [[ -f $file ]] || { echo "gcs_put: no file $file" >&2; return 2; }
  _gcs_need gcs_put || return 2
  _gcs_store put "$GCS_BUCKET" "$name" "$file"
}

gcs_delete() {
  _gcs_need gcs_delete || return 2
  _gcs_store delete "$GCS_BUCKET" "${1:?gcs_delete NAME}"
}

# --- control helpers -----------------------------------------------------------------

_gcs_control() {
  local method=$1 path=$2 data=${3:-}
  [[ -n ${GCS_URL:-} ]] || { echo "gcs.sh: no GCS instance (gcs_start first)" >&2; return 2; }
  local args=(-sS --fail-with-body --noproxy '*' -X "$method" "$GCS_URL$path")
  [[ -n $data ]] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
  curl "${args[@]}"
}

gcs_fault() { _gcs_control POST /_test/faults "${1:?gcs_fault JSON}" >/dev/null; }
gcs_faults_clear() { _gcs_control DELETE /_test/faults >/dev/null; }
gcs_stats() { _gcs_control GET /_test/stats; }
gcs_expire_tokens() { _gcs_control POST /_test/expire-tokens >/dev/null; }

gcs_wait_log() {
  local want=${1:?gcs_wait_log COUNT [SECONDS]} secs=${2:-10}
  local end=$(($(_gcs_now_ms) + secs * 1000)) n
  while :; do
    n=0
    [[ -f $GCS_LOG ]] && n=$(wc -l <"$GCS_LOG")
    ((n >= want)) && return 0
    (($(_gcs_now_ms) < end)) || fail "$GCS_LOG: $n lines after ${secs}s, expected at least $want"
    sleep 0.02
  done
}

gcs_jwt() {
  local has_file='' a
  for a in "$@"; do [[ $a == --sa-file ]] && has_file=1; done
  if [[ -n $has_file ]]; then
    _gcs_env "$PY" "$GCS_SERVER" jwt "$@"
  else
    _gcs_env "$PY" "$GCS_SERVER" jwt --sa-file "${GCS_SA_FILE:?gcs_jwt: no GCS instance}" "$@"
  fi
}

fi # _GCS_HARNESS_LOADED
