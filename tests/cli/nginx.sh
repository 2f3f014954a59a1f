# Private HTTP(S)/WebDAV servers, test certificates and a fault-injecting
# proxy for the CLI tests of HTTP remotes. Source it after lib.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   source "$MLPACK_TESTS_DIR/cli/nginx.sh"
#
#   nginx_start NAME ROOT [--tls CERT KEY] [--auth-bearer TOKEN] [--auth-basic USER PASS]
#       Serves the folder ROOT (created if missing) over WebDAV from a private
#       nginx on 127.0.0.1, port chosen free. Sets NGINX_PORT, NGINX_URL
#       (http(s)://127.0.0.1:PORT, no trailing slash), NGINX_ACCESS_LOG and
#       NGINX_ERROR_LOG for the instance just started; the same files are
#       always at $TMP/nginx-NAME/{access,error}.log. Several instances with
#       different NAMEs may run at once. Stopped on exit if not before.
#       Starting a NAME again after nginx_stop reuses its port and appends to
#       its logs: a server that went down and came back. Runs as the invoking
#       user (root or not); PUT bodies are spooled outside ROOT, on its
#       filesystem, and renamed into place when complete.
#   nginx_stop NAME
#       Stops the instance and returns once its processes are gone.
#   nginx_wait_log FILE COUNT [SECONDS]
#       Waits until FILE has at least COUNT lines (default 10 s). nginx writes
#       an access-log line when it finalises a request, which can be just
#       after the client has read the whole response; a test that checks the
#       log right after a request must wait for the line like this. Works for
#       PROXY_LOG too.
#
#   tls_make_ca DIR                 DIR/ca.pem, DIR/ca.key: a new test CA
#   tls_make_cert DIR NAME [SAN]    DIR/NAME.pem, DIR/NAME.key: a server
#       certificate signed by DIR's CA, for SAN (an openssl subjectAltName
#       value; default "IP:127.0.0.1,DNS:localhost"). For "wrong CA" checks,
#       make a second CA in another DIR and trust that one instead.
#
#   proxy_start NAME UPSTREAM_PORT FAULTS [fault_proxy.py options...]
#       Starts tests/tools/fault_proxy.py on 127.0.0.1 (port chosen by the
#       proxy itself) in front of 127.0.0.1:UPSTREAM_PORT with the fault spec
#       FAULTS (syntax at the top of fault_proxy.py; "" passes everything),
#       e.g. proxy_start p "$NGINX_PORT" "503:every=3" --max-faults 2.
#       Sets PROXY_PORT, PROXY_URL (http://127.0.0.1:PORT) and PROXY_LOG (one
#       line per request: counter method target fault upstream-status conn).
#       Stopped on exit if not before. The proxy speaks plain HTTP only.
#   proxy_stop NAME
#
# Access log format (log_format "mlp"), one request a line, fields separated
# by single spaces; the first five are fixed, later fields may be appended:
#   1 method  2 request target as sent ($request_uri, still %-encoded, so it
#   never contains a space)  3 status  4 request length (line, headers and
#   body)  5 bytes sent (headers and body)  6 connection serial number
#   7 requests so far on that connection (1 = new connection)  8 request time
#
# Cleanup: this file wraps the EXIT trap that lib.sh set (it does not replace
# it): on exit every server and proxy still running is stopped first, then
# lib.sh's own handler runs with the script's exit status. A test that sets
# its own EXIT trap after sourcing this file must call harness_stop_all in it.

# shellcheck disable=SC2034 # NGINX_* and PROXY_* are set for the caller
if [[ -z ${TMP:-} ]] || ! declare -F fail >/dev/null; then
  echo "nginx.sh: source lib.sh first" >&2
  exit 1
fi

if [[ -z ${_HARNESS_LOADED:-} ]]; then
_HARNESS_LOADED=1

# Debian puts nginx in /usr/sbin, which is not on a non-root user's PATH.
NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
NGINX_DAV_EXT_MODULE=${NGINX_DAV_EXT_MODULE:-/usr/lib/nginx/modules/ngx_http_dav_ext_module.so}
FAULT_PROXY=$MLPACK_TESTS_DIR/tools/fault_proxy.py
# How long a server or proxy may take to come up or go away.
HARNESS_TIMEOUT=${HARNESS_TIMEOUT:-15}

declare -gA _NGINX_PID=() _PROXY_PID=()

# --- cleanup -------------------------------------------------------------------

harness_stop_all() {
  local name
  for name in "${!_PROXY_PID[@]}"; do proxy_stop "$name" || true; done
  for name in "${!_NGINX_PID[@]}"; do nginx_stop "$name" || true; done
}

# The EXIT trap lib.sh (or the test) set before this file was sourced, as the
# command string trap -p shows; it runs after ours, with the original status.
# (In a function, so that "set --" does not clear the script's arguments.)
_harness_prev_exit_trap=
# shellcheck disable=SC2120 # its own "set --", not the script's arguments
_harness_read_exit_trap() {
  local shown
  shown=$(trap -p EXIT)
  [[ -n $shown ]] || return 0
  eval "set -- $shown" # trap -- 'CMD' EXIT
  _harness_prev_exit_trap=$3
}
_harness_read_exit_trap
_harness_on_exit() {
  local rc=$?
  set +e # a failed stop must not keep the rest of the cleanup from running
  harness_stop_all
  if [[ -n $_harness_prev_exit_trap ]]; then
    # Give the previous handler the script's status in $?.
    (exit "$rc")
    eval "$_harness_prev_exit_trap"
  fi
  exit "$rc"
}
trap _harness_on_exit EXIT

# --- small helpers ---------------------------------------------------------------

# The time in ms, for poll deadlines.
_harness_now_ms() { date +%s%3N; }

# _harness_alive PID : whether PID runs. A child of ours that has exited stays
# a zombie until reaped, and kill -0 succeeds on a zombie: /proc tells.
_harness_alive() {
  local state
  state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# _harness_wait_gone PID SECONDS : polls until PID has exited; 1 on timeout.
_harness_wait_gone() {
  local pid=$1 end=$(($(_harness_now_ms) + $2 * 1000))
  while _harness_alive "$pid"; do
    (($(_harness_now_ms) < end)) || return 1
    sleep 0.02
  done
  return 0
}

# _harness_kill PID : SIGTERM, then SIGKILL (to it and its children) if it is
# not gone within HARNESS_TIMEOUT; reaps it when it is our child.
_harness_kill() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  if ! _harness_wait_gone "$pid" "$HARNESS_TIMEOUT"; then
    echo "harness: pid $pid ignored SIGTERM for ${HARNESS_TIMEOUT}s, killing it" >&2
    local kids
    kids=$(pgrep -P "$pid" 2>/dev/null) || true
    # shellcheck disable=SC2086
    kill -KILL "$pid" $kids 2>/dev/null || true
    _harness_wait_gone "$pid" 5 || true
  fi
  wait "$pid" 2>/dev/null || true
}

# _harness_free_port : a port that was free a moment ago. Another process can
# take it before nginx binds it; nginx_start retries when that happens.
_harness_free_port() {
  "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

nginx_wait_log() {
  local file=$1 want=$2 secs=${3:-10}
  local end=$(($(_harness_now_ms) + secs * 1000)) n
  while :; do
    n=0
    [[ -f $file ]] && n=$(wc -l <"$file")
    ((n >= want)) && return 0
    (($(_harness_now_ms) < end)) || fail "$file: $n lines after ${secs}s, expected at least $want"
    sleep 0.02
  done
}

# --- nginx -------------------------------------------------------------------------

# _nginx_conf_word WHAT VALUE : fails unless VALUE can go into nginx.conf as a
# bare word (no quoting rules to get wrong: tests choose simple values, and
# mktemp's folder names are such words).
_nginx_conf_word() {
  [[ $2 =~ ^[A-Za-z0-9._~+/=:@-]+$ ]] ||
    fail "nginx_start: $1 '$2' must be letters, digits and ._~+/=:@- only"
}

nginx_start() {
  local name=${1:?nginx_start NAME ROOT [options]} root=${2:?nginx_start NAME ROOT [options]}
  shift 2
  local cert='' key='' bearer='' buser='' bpass=''
  while (($#)); do
    case $1 in
      --tls) cert=${2:?--tls CERT KEY} key=${3:?--tls CERT KEY}; shift 3 ;;
      --auth-bearer) bearer=${2:?--auth-bearer TOKEN}; shift 2 ;;
      --auth-basic) buser=${2:?--auth-basic USER PASS} bpass=${3:?--auth-basic USER PASS}; shift 3 ;;
      *) fail "nginx_start: unknown option $1" ;;
    esac
  done
  [[ -z ${_NGINX_PID[$name]:-} ]] || fail "nginx_start: '$name' is already running"
  [[ $name =~ ^[A-Za-z0-9_-]+$ ]] || fail "nginx_start: bad NAME '$name'"
  [[ -x $NGINX_BIN ]] || fail "nginx not found (NGINX_BIN=$NGINX_BIN): run scripts/install-deps.sh --test"
  [[ -f $NGINX_DAV_EXT_MODULE ]] ||
    fail "$NGINX_DAV_EXT_MODULE missing: install libnginx-mod-http-dav-ext (scripts/install-deps.sh --test)"

  mkdir -p "$root"
  root=$(realpath "$root")
  _nginx_conf_word ROOT "$root"
  _nginx_conf_word "temp folder" "$TMP"
  # A restart of a NAME that ran before keeps its port (clients configured
  # with NGINX_URL reach it again: a server that went down and came back)
  # and appends to its logs.
  local dir=$TMP/nginx-$name old_port=''
  [[ -f $dir/port ]] && old_port=$(<"$dir/port")
  mkdir -p "$dir/tmp"

  # PUT bodies go to a temp file that nginx renames into place once complete,
  # so an interrupted upload never shows under ROOT. rename(2) only works
  # within one filesystem: across two nginx copies the file instead, into a
  # temp name next to the destination, i.e. under ROOT. So the body folder
  # must sit on ROOT's filesystem, and outside ROOT so that listings of ROOT
  # never see it.
  local body=$dir/tmp/body
  if [[ $(stat -c %d "$dir/tmp") != "$(stat -c %d "$root")" ]]; then
    body=$(dirname "$root")/.nginx-$name-body
    rm -rf "$body"
    mkdir -p "$body"
    [[ $(stat -c %d "$body") == "$(stat -c %d "$root")" ]] ||
      fail "nginx_start: no folder on ROOT's filesystem outside ROOT for PUT bodies"
  fi
  case $body/ in "$root"/*) fail "nginx_start: body folder $body is inside ROOT" ;; esac

  # Workers run as the invoking user. As root, nginx would otherwise switch
  # them to "nobody", which can neither write ROOT nor read a key in $TMP;
  # as non-root the directive is ignored with a warning, so it is left out.
  local user_line=''
  [[ $(id -u) -eq 0 ]] && user_line='user root root;'

  local scheme=http listen_opts='' tls_lines=''
  if [[ -n $cert ]]; then
    cert=$(realpath "$cert") key=$(realpath "$key")
    _nginx_conf_word CERT "$cert"
    _nginx_conf_word KEY "$key"
    scheme=https listen_opts=' ssl'
    tls_lines="ssl_certificate $cert;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.2 TLSv1.3;"
  fi

  local auth_http='' auth_loc=''
  if [[ -n $bearer ]]; then
    _nginx_conf_word "bearer token" "$bearer"
    # nginx has no bearer-token module; an exact match of the whole header
    # through map (nginx-light has it) and a return in "if" do the job.
    auth_http="map \$http_authorization \$mlp_bearer_ok {
    default 0;
    \"Bearer $bearer\" 1;
  }"
    auth_loc="if (\$mlp_bearer_ok = 0) {
        add_header WWW-Authenticate 'Bearer realm=\"mlpack-test\"' always;
        return 401;
      }"
  fi
  if [[ -n $buser ]]; then
    [[ $buser =~ ^[A-Za-z0-9._-]+$ ]] || fail "nginx_start: basic-auth user '$buser' must be letters, digits and ._-"
    local hash
    hash=$(printf '%s\n' "$bpass" | openssl passwd -apr1 -stdin) || fail "nginx_start: openssl passwd failed"
    printf '%s:%s\n' "$buser" "$hash" >"$dir/htpasswd"
    auth_loc+="
      auth_basic \"mlpack-test\";
      auth_basic_user_file $dir/htpasswd;"
  fi

  local attempts=10 port pid
  for ((; attempts > 0; attempts--)); do
    port=${old_port:-$(_harness_free_port)}
    cat >"$dir/nginx.conf" <<EOF
# Generated by tests/cli/nginx.sh for test instance "$name".
load_module $NGINX_DAV_EXT_MODULE;
# Not daemonised: a background job of the test script, so it stays in the
# test's process tree, and a runner that kills the tree on timeout (CTest
# does) takes nginx down too.
daemon off;
master_process on;
worker_processes 1;
$user_line
pid $dir/nginx.pid;
lock_file $dir/nginx.lock;
error_log $dir/error.log info;

events {
  worker_connections 1024;
}

http {
  default_type application/octet-stream;
  server_tokens off;
  sendfile on;
  # libcurl keeps connections open between requests; let it.
  keepalive_timeout 300s;
  keepalive_requests 100000;

  log_format mlp '\$request_method \$request_uri \$status \$request_length \$bytes_sent \$connection \$connection_requests \$request_time';
  access_log $dir/access.log mlp;

  # Every temp folder inside the prefix: the compiled-in defaults are under
  # /var/lib/nginx, which a non-root user cannot write.
  client_body_temp_path $body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;

  $auth_http

  server {
    listen 127.0.0.1:$port$listen_opts;
    server_name localhost;
    $tls_lines

    root $root;
    autoindex off;
    client_max_body_size 0;

    location / {
      $auth_loc
      dav_methods PUT DELETE MKCOL COPY MOVE;
      dav_ext_methods PROPFIND OPTIONS;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
EOF
    rm -f "$dir/nginx.pid"
    # -e: where errors go before the config's error_log is read. Startup
    # errors also go to stderr, i.e. to stdout.log, new for each attempt.
    "$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
      >"$dir/stdout.log" 2>&1 </dev/null &
    pid=$!
    # nginx writes its pid file once the listening socket is bound (the
    # workers come up just after; connections wait in the backlog until then),
    # and exits at once if the bind fails.
    local end=$(($(_harness_now_ms) + HARNESS_TIMEOUT * 1000))
    while [[ ! -s $dir/nginx.pid ]] && _harness_alive "$pid" && (($(_harness_now_ms) < end)); do
      sleep 0.02
    done
    if [[ -s $dir/nginx.pid ]] && _harness_alive "$pid"; then
      [[ $(<"$dir/nginx.pid") == "$pid" ]] || {
        _harness_kill "$pid"
        fail "nginx_start: pid file of '$name' names another process"
      }
      _NGINX_PID[$name]=$pid
      echo "$port" >"$dir/port"
      NGINX_PORT=$port
      NGINX_URL=$scheme://127.0.0.1:$port
      NGINX_ACCESS_LOG=$dir/access.log
      NGINX_ERROR_LOG=$dir/error.log
      return 0
    fi
    _harness_kill "$pid"
    if grep -q 'Address already in use' "$dir/stdout.log"; then
      [[ -z $old_port ]] || fail "nginx_start: '$name' cannot get its port $old_port back"
      continue # another process took the port since it was found free
    fi
    echo "--- $dir/stdout.log ---" >&2
    cat "$dir/stdout.log" >&2 || true
    fail "nginx_start: '$name' did not start (see $dir/error.log)"
  done
  fail "nginx_start: '$name' lost its port to another process 10 times"
}

nginx_stop() {
  local name=${1:?nginx_stop NAME}
  local pid=${_NGINX_PID[$name]:-}
  [[ -n $pid ]] || return 0
  # SIGTERM is nginx's fast shutdown: the master stops its workers and exits
  # after they are gone, so waiting for the master is enough.
  _harness_kill "$pid"
  unset "_NGINX_PID[$name]"
}

# --- TLS test certificates --------------------------------------------------------
# EC P-256 keys: quick to make. An explicit config per call, so that the
# system's openssl.cnf defaults play no part.

tls_make_ca() {
  local dir=${1:?tls_make_ca DIR}
  mkdir -p "$dir"
  cat >"$dir/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = mlpack test CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
  # The CN also names the folder: two test CAs are then told apart in errors.
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -config "$dir/ca.cnf" -subj "/CN=mlpack test CA $(basename "$dir")" \
    -days 3650 -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>"$dir/ca.err" ||
    { cat "$dir/ca.err" >&2; fail "tls_make_ca $dir failed"; }
}

tls_make_cert() {
  local dir=${1:?tls_make_cert DIR NAME [SAN]} name=${2:?tls_make_cert DIR NAME [SAN]}
  local san=${3:-IP:127.0.0.1,DNS:localhost}
  [[ -f $dir/ca.pem && -f $dir/ca.key ]] || fail "tls_make_cert: no CA in $dir (tls_make_ca first)"
  cat >"$dir/$name.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = localhost
[v3_srv]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF
  {
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -config "$dir/$name.cnf" -keyout "$dir/$name.key" -out "$dir/$name.csr" &&
      openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 825 \
        -extfile "$dir/$name.cnf" -extensions v3_srv -out "$dir/$name.pem"
  } 2>"$dir/$name.err" || { cat "$dir/$name.err" >&2; fail "tls_make_cert $dir $name failed"; }
}

# --- fault-injecting proxy -------------------------------------------------------------

proxy_start() {
  local name=${1:?proxy_start NAME UPSTREAM_PORT FAULTS [options]}
  local upstream=${2:?proxy_start NAME UPSTREAM_PORT FAULTS [options]}
  local faults=${3?proxy_start NAME UPSTREAM_PORT FAULTS [options]}
  shift 3
  [[ -z ${_PROXY_PID[$name]:-} ]] || fail "proxy_start: '$name' is already running"
  [[ $name =~ ^[A-Za-z0-9_-]+$ ]] || fail "proxy_start: bad NAME '$name'"
  local dir=$TMP/proxy-$name
  rm -rf "$dir"
  mkdir -p "$dir"
  # The proxy binds port 0 itself and writes the port it got to the port file
  # (atomically) once it listens: no race for the port.
  "$PY" "$FAULT_PROXY" --upstream-port "$upstream" --faults "$faults" \
    --log "$dir/proxy.log" --port-file "$dir/port" "$@" \
    >"$dir/stdout.log" 2>"$dir/stderr.log" </dev/null &
  local pid=$!
  local end=$(($(_harness_now_ms) + HARNESS_TIMEOUT * 1000))
  while [[ ! -s $dir/port ]] && _harness_alive "$pid" && (($(_harness_now_ms) < end)); do
    sleep 0.02
  done
  if [[ ! -s $dir/port ]] || ! _harness_alive "$pid"; then
    _harness_kill "$pid"
    cat "$dir/stderr.log" >&2 || true
    fail "proxy_start: '$name' did not start"
  fi
  _PROXY_PID[$name]=$pid
  PROXY_PORT=$(<"$dir/port")
  PROXY_URL=http://127.0.0.1:$PROXY_PORT
  PROXY_LOG=$dir/proxy.log
}

proxy_stop() {
  local name=${1:?proxy_stop NAME}
  local pid=${_PROXY_PID[$name]:-}
  [[ -n $pid ]] || return 0
  _harness_kill "$pid"
  unset "_PROXY_PID[$name]"
}

fi # _HARNESS_LOADED
