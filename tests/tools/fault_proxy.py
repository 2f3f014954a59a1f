#!/usr/bin/env python3
"""A fault-injecting HTTP/1.1 reverse proxy for tests (Python 3 stdlib only).

    fault_proxy.py --upstream-port PORT [--port 0] [--faults SPEC]
                   [--max-faults N] [--log FILE] [--port-file FILE]

Listens on 127.0.0.1:PORT (0, the default, picks a free port) and forwards
every request to 127.0.0.1:UPSTREAM_PORT, except those a fault rule picks.
Once listening it prints the port on stdout and, with --port-file, writes it
to that file (atomically: the file appears complete or not at all). SIGTERM
or SIGINT ends it at once with status 0.

What it handles: keep-alive client connections (libcurl reuses them; each
client connection gets its own keep-alive upstream connection), any method,
request bodies with Content-Length or chunked, streamed both ways without
holding a body in memory (bodies of gigabytes are fine), "Expect:
100-continue" (the upstream's interim or early final answer is relayed), and
responses framed by Content-Length, chunked or by closing. Headers pass
unchanged (Host and Destination too, so WebDAV COPY/MOVE keep working). It
speaks plain HTTP only, to the client and to the upstream.

Fault spec
----------
    SPEC   := "" | RULE ("," RULE)*
    RULE   := KIND (":" OPTION)*
    OPTION := NAME "=" VALUE

KIND is one of:
    NNN          a status code from 400 to 599 (429, 500, 502, 503, 504...):
                 answered by the proxy itself, the upstream is not contacted.
                 By default the proxy first reads and discards the request
                 body, then answers and keeps the connection open, as nginx
                 does for its own errors. When the request carries "Expect:
                 100-continue" (the client has not sent its body yet), or with
                 close=1, it answers at once with "Connection: close", then
                 closes the connection after draining what the client still
                 sends (up to 5 s), so the client reads the answer rather
                 than a reset: a server under load that sheds a request.
    cut          the request is forwarded (the upstream carries it out); the
                 client gets the response headers and part of the body
                 (bytes=), then the connection is closed (FIN): libcurl
                 reports error 18 "transfer closed with N bytes remaining".
                 A response without a body (HEAD, 201/204, a PUT's answer)
                 is lost whole: the connection closes before its headers,
                 so the client cannot tell whether its request took effect.
    stall        like cut, but after the partial body nothing is sent for
                 seconds= seconds before the close: the client's low-speed
                 or read timeout should fire first. A response without a
                 body stalls before its headers.
    reset        the connection is reset (TCP RST) as soon as the request
                 headers are read; nothing is forwarded.
    cut-request  the request headers and part of its body (bytes=) are
                 forwarded, then both connections are closed (the client's
                 with a reset) without an answer: an upload broken midway.
                 The upstream sees a client that went away.

OPTION NAMEs:
    every=N        fire on every Nth matching request (default 1)
    start=K        fire first on the Kth matching request (default: every),
                   then on every Nth after it
    times=M        fire at most M times (default: no limit)
    method=M[|M]   match only these methods (e.g. method=GET|HEAD)
    path=S         match only request targets containing S (e.g. /blobs/)
    retry-after=N  status kinds: add "Retry-After: N"
    close=1        status kinds: answer at once and close (see above)
    bytes=N        cut, stall, cut-request: body bytes sent before the fault.
                   Default: half the body when its length is known (always
                   at least one byte short of the whole), else 1024.
    headers=0      cut, stall: fault before the response headers
    seconds=X      stall: how long (default 10; fractions allowed)

Counting is deterministic. Requests are numbered from 1 in the order their
headers arrive (the global counter, logged). Every rule counts the requests
that match its method= and path= filters; a rule is due on its Kth, K+Nth,
K+2Nth... match, while it has fired fewer than times= times. The first due
rule in SPEC order is applied; other due rules skip that turn. With
--max-faults N, once N faults were injected in all, every later request
passes. Examples:
    503:every=3                  requests 3, 6, 9... get a 503
    503:every=3,cut:every=4      3, 6, 9 -> 503; 4, 8 -> cut; 12 -> 503
    cut:every=2:method=GET:path=/blobs/   every second GET of a blob
    reset:times=1                only the very first request is reset
    429:start=2:times=1:retry-after=1     only the second request
    stall:every=7:seconds=5:bytes=65536

Log (--log FILE): one line per request, written as soon as its outcome is
known, before the client can have read all of its answer:
    COUNTER METHOD TARGET FAULT UPSTREAM-STATUS CONNECTION
FAULT is "pass" or the rule's KIND; UPSTREAM-STATUS is "-" when the upstream
gave no status (not asked, down: the client then gets a 502, or it broke off
the exchange); CONNECTION numbers client connections from 1 (equal numbers
mean a reused connection). A request whose line is not in the log yet is not
finished, so a test can poll the log for the lines it expects.
"""

import argparse
import http
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

BUF = 1 << 20          # largest single read or write while streaming
HEAD_LIMIT = 1 << 16   # largest request or response head accepted
EXPECT_WAIT = 1.0      # how long to wait for the upstream's 100 Continue
LINGER = 5.0           # how long to drain a client after an early answer

STOP = threading.Event()


class ProtocolError(Exception):
    pass


class Truncated(Exception):
    """The peer closed the connection before the end of a message."""


class BudgetSpent(Exception):
    """A limited sink has sent all the bytes it was allowed to."""


# --- fault rules ---------------------------------------------------------------

FAULT_KINDS = ("cut", "stall", "reset", "cut-request")
OPTIONS = {
    "every": int, "start": int, "times": int, "method": str, "path": str,
    "retry-after": int, "close": int, "bytes": int, "headers": int,
    "seconds": float,
}


class Rule:
    def __init__(self, text):
        parts = text.split(":")
        self.kind = parts[0].strip()
        if self.kind.isdigit() and len(self.kind) == 3 and 400 <= int(self.kind) <= 599:
            self.status = int(self.kind)
        elif self.kind in FAULT_KINDS:
            self.status = None
        else:
            raise ValueError(f"unknown fault kind {self.kind!r} in {text!r}")
        opts = {}
        for part in parts[1:]:
            name, eq, value = part.partition("=")
            name = name.strip()
            if not eq or name not in OPTIONS:
                raise ValueError(f"bad option {part!r} in {text!r}")
            try:
                opts[name] = OPTIONS[name](value.strip())
            except ValueError:
                raise ValueError(f"bad value for {name} in {text!r}") from None
        self.every = opts.get("every", 1)
        self.start = opts.get("start", self.every)
        self.times = opts.get("times")
        self.methods = set(opts["method"].upper().split("|")) if "method" in opts else None
        self.path = opts.get("path")
        self.retry_after = opts.get("retry-after")
        self.close = bool(opts.get("close", 0))
        self.bytes = opts.get("bytes")
        self.headers = bool(opts.get("headers", 1))
        self.seconds = opts.get("seconds", 10.0)
        if self.every < 1 or self.start < 1 or (self.times is not None and self.times < 0):
            raise ValueError(f"every and start must be >= 1, times >= 0 in {text!r}")
        if self.bytes is not None and self.bytes < 0:
            raise ValueError(f"bytes must be >= 0 in {text!r}")
        self.matched = 0
        self.fired = 0

    def count(self, method, target):
        """Counts the request if it matches; True when the rule is due."""
        if self.methods is not None and method.upper() not in self.methods:
            return False
        if self.path is not None and self.path not in target:
            return False
        self.matched += 1
        n = self.matched
        if self.times is not None and self.fired >= self.times:
            return False
        return n >= self.start and (n - self.start) % self.every == 0


class Faults:
    def __init__(self, spec, max_faults):
        self.rules = [Rule(r) for r in spec.split(",") if r.strip()]
        self.max_faults = max_faults
        self.lock = threading.Lock()
        self.counter = 0
        self.injected = 0

    def decide(self, method, target):
        """(request number, the rule to apply or None)."""
        with self.lock:
            self.counter += 1
            chosen = None
            for rule in self.rules:
                if rule.count(method, target) and chosen is None:
                    chosen = rule
            if chosen is not None and self.max_faults is not None and self.injected >= self.max_faults:
                chosen = None
            if chosen is not None:
                chosen.fired += 1
                self.injected += 1
            return self.counter, chosen


class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.file = open(path, "a", encoding="utf-8") if path else None

    def write(self, counter, method, target, fault, status, conn):
        if self.file is None:
            return
        with self.lock:
            if self.file.closed:
                return
            self.file.write(f"{counter} {method} {target} {fault} {status} {conn}\n")
            self.file.flush()

    def close(self):
        if self.file is not None:
            with self.lock:
                self.file.close()


# --- HTTP plumbing ------------------------------------------------------------------

class Stream:
    """A socket with a read buffer: lines for heads, raw reads for bodies."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def readline(self):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if len(self.buf) > HEAD_LIMIT:
                raise ProtocolError("line too long")
            data = self.sock.recv(65536)
            if not data:
                line = bytes(self.buf)
                self.buf.clear()
                return line
            self.buf += data

    def read_some(self, n):
        if self.buf:
            k = min(n, len(self.buf))
            data = bytes(self.buf[:k])
            del self.buf[:k]
            return data
        return self.sock.recv(min(n, BUF))


class Sink:
    """Where a relayed body goes: a socket, or nowhere (sock None). With a
    budget, it sends at most that many bytes, then raises BudgetSpent."""

    def __init__(self, sock, budget=None):
        self.sock = sock
        self.budget = budget
        self.sent = 0

    def write(self, data):
        if self.budget is not None and self.sent + len(data) >= self.budget:
            data = data[:self.budget - self.sent]
            if self.sock is not None and data:
                self.sock.sendall(data)
            self.sent += len(data)
            raise BudgetSpent()
        if self.sock is not None:
            self.sock.sendall(data)
        self.sent += len(data)


def read_head(stream):
    """The raw lines of a message head up to its blank line; None on a clean
    EOF before the first byte."""
    lines = []
    size = 0
    while True:
        line = stream.readline()
        if not line:
            if not lines:
                return None
            raise Truncated("EOF inside a message head")
        if not line.endswith(b"\n"):
            raise Truncated("EOF inside a message head")
        if not lines and line in (b"\r\n", b"\n"):
            continue  # stray CRLF between messages (RFC 9112 2.2)
        lines.append(line)
        size += len(line)
        if size > HEAD_LIMIT:
            raise ProtocolError("head too large")
        if line in (b"\r\n", b"\n"):
            return lines


def parse_headers(lines):
    headers = {}
    for line in lines[1:-1]:
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise ProtocolError(f"bad header line {line!r}")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return headers


def tokens(headers, name):
    return {t.strip().lower() for v in headers.get(name, []) for t in v.split(",") if t.strip()}


def body_framing(headers):
    """'chunked', a byte count, or None (no framing: read until close)."""
    if "chunked" in tokens(headers, "transfer-encoding"):
        return "chunked"
    if "content-length" in headers:
        try:
            n = int(headers["content-length"][0])
        except ValueError:
            raise ProtocolError("bad Content-Length") from None
        if n < 0:
            raise ProtocolError("bad Content-Length")
        return n
    return None


def relay_fixed(src, sink, n):
    while n > 0:
        data = src.read_some(min(n, BUF))
        if not data:
            raise Truncated(f"EOF with {n} body bytes to go")
        n -= len(data)
        sink.write(data)


def relay_chunked(src, sink):
    """Relays a chunked body as it is framed. A budgeted sink never gets the
    last chunk, so a limited relay never completes the message."""
    while True:
        line = src.readline()
        if not line.endswith(b"\n"):
            raise Truncated("EOF in a chunk header")
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise ProtocolError(f"bad chunk header {line!r}") from None
        if size == 0:
            if sink.budget is not None:
                raise BudgetSpent()
            sink.write(line)
            while True:  # trailers, up to the blank line
                trailer = src.readline()
                if not trailer.endswith(b"\n"):
                    raise Truncated("EOF in chunk trailers")
                sink.write(trailer)
                if trailer in (b"\r\n", b"\n"):
                    return
        sink.write(line)
        relay_fixed(src, sink, size)
        crlf = src.readline()
        if not crlf.endswith(b"\n"):
            raise Truncated("EOF after chunk data")
        sink.write(crlf)


def relay_until_close(src, sink):
    while True:
        data = src.read_some(BUF)
        if not data:
            return
        sink.write(data)


def relay_body(src, sink, framing):
    if framing == "chunked":
        relay_chunked(src, sink)
    elif framing is None:
        relay_until_close(src, sink)
    else:
        relay_fixed(src, sink, framing)


def status_of(head):
    parts = head[0].split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise ProtocolError(f"bad status line {head[0]!r}")
    return int(parts[1])


def reset(sock):
    """Closes with a TCP RST rather than a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def lingering_close(sock):
    """Half-closes, then reads what the peer still sends (for up to LINGER
    seconds) before closing: closing with unread data would send a reset,
    which can destroy the answer before the client reads it."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER
        while not STOP.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([sock], [], [], min(left, 0.5))
            if r and not sock.recv(BUF):
                break
    except OSError:
        pass
    sock.close()


def error_response(rule, method, close):
    status = rule.status
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body = f"fault_proxy: injected {status}\n".encode()
    head = [f"HTTP/1.1 {status} {phrase}", "Content-Type: text/plain",
            f"Content-Length: {len(body)}"]
    if rule.retry_after is not None:
        head.append(f"Retry-After: {rule.retry_after}")
    if close:
        head.append("Connection: close")
    data = ("\r\n".join(head) + "\r\n\r\n").encode()
    return data if method == "HEAD" else data + body


# --- one client connection -------------------------------------------------------

class Upstream:
    def __init__(self, port):
        self.port = port
        self.stream = None

    def get(self):
        """A connection to the upstream, new if the kept one went stale (the
        upstream closed it while idle: it then reads as EOF)."""
        s = self.stream
        if s is not None:
            readable = bool(s.buf) or bool(select.select([s.sock], [], [], 0)[0])
            if readable:
                self.close()
        if self.stream is None:
            sock = socket.create_connection(("127.0.0.1", self.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.stream = Stream(sock)
        return self.stream

    def close(self):
        if self.stream is not None:
            try:
                self.stream.sock.close()
            except OSError:
                pass
            self.stream = None


class Connection:
    def __init__(self, sock, conn_id, args, faults, log):
        self.sock = sock
        self.client = Stream(sock)
        self.conn_id = conn_id
        self.faults = faults
        self.log_file = log
        self.upstream = Upstream(args.upstream_port)
        # The log fields of a counted request whose line is not written yet:
        # a request that ends in an error is logged too, with status "-".
        self.unlogged = None

    def log(self, status):
        counter, method, target, kind = self.unlogged
        self.unlogged = None
        self.log_file.write(counter, method, target, kind, status, self.conn_id)

    def run(self):
        try:
            while not STOP.is_set() and self.one_request():
                pass
        except Exception as e:  # the connection ends; the proxy goes on
            if self.unlogged is not None:
                self.log("-")
            if not isinstance(e, (ConnectionResetError, BrokenPipeError, Truncated)):
                print(f"fault_proxy: connection {self.conn_id}: {e!r}", file=sys.stderr, flush=True)
        finally:
            self.upstream.close()
            try:
                self.sock.close()
            except OSError:
                pass

    def one_request(self):
        """Handles one request; False when the client connection is done."""
        head = read_head(self.client)
        if head is None:
            return False
        parts = head[0].decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            self.sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return False
        method, target, version = parts
        headers = parse_headers(head)
        framing = body_framing(headers)
        if framing is None:
            framing = 0  # a request without framing has no body
        has_body = framing != 0
        conn_tokens = tokens(headers, "connection")
        client_close = "close" in conn_tokens or (version == "HTTP/1.0" and "keep-alive" not in conn_tokens)
        expect = has_body and "100-continue" in tokens(headers, "expect")

        counter, rule = self.faults.decide(method, target)
        kind = rule.kind if rule is not None else "pass"
        self.unlogged = (counter, method, target, kind)
        log = self.log

        if kind == "reset":
            log("-")
            reset(self.sock)
            return False

        if rule is not None and rule.status is not None:
            if expect or rule.close:
                log("-")
                self.sock.sendall(error_response(rule, method, close=True))
                lingering_close(self.sock)
                return False
            relay_body(self.client, Sink(None), framing)
            log("-")
            self.sock.sendall(error_response(rule, method, close=client_close))
            return not client_close

        try:
            up = self.upstream.get()
        except ConnectionRefusedError:
            # What a reverse proxy answers when its upstream is down.
            log("-")
            self.sock.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return False
        up.sock.sendall(b"".join(head))

        # With "Expect: 100-continue" the client holds its body back until the
        # upstream's go-ahead, so that is awaited first (up to EXPECT_WAIT:
        # after that the client sends anyway, as libcurl does) and relayed. An
        # early final answer (a 401, say) means the body will not come, or
        # comes to no purpose: that answer is relayed, then the connection is
        # closed.
        resp_head = None
        if expect and select.select([up.sock], [], [], EXPECT_WAIT)[0]:
            first = read_head(up)
            if first is None:
                raise Truncated("upstream closed before answering")
            if 100 <= status_of(first) < 200:
                self.sock.sendall(b"".join(first))
            else:
                resp_head = first
                client_close = True

        if kind == "cut-request":
            budget = rule.bytes
            if isinstance(framing, int):
                budget = framing // 2 if budget is None else budget
                budget = min(budget, framing - 1)  # always short
            elif budget is None:
                budget = 1024
            if resp_head is None:
                try:
                    relay_body(self.client, Sink(up.sock, budget), framing)
                except BudgetSpent:
                    pass
            log("-")
            self.upstream.close()
            reset(self.sock)
            return False

        if has_body and resp_head is None:
            try:
                relay_body(self.client, Sink(up.sock), framing)
            except (BrokenPipeError, ConnectionResetError):
                # The upstream stopped reading: it may have answered early
                # (a 413, say). Relay that answer if there is one; the rest
                # of the client's body is never read, so close afterwards.
                client_close = True

        # The final answer; interim (1xx) answers are relayed as they come.
        while resp_head is None:
            resp = read_head(up)
            if resp is None:
                raise Truncated("upstream closed before answering")
            if 100 <= status_of(resp) < 200:
                self.sock.sendall(b"".join(resp))
                continue
            resp_head = resp
        status = status_of(resp_head)
        rheaders = parse_headers(resp_head)
        if method == "HEAD" or status in (204, 304):
            rframing = 0
        else:
            rframing = body_framing(rheaders)
        rtokens = tokens(rheaders, "connection")
        resp_close = (rframing is None or "close" in rtokens
                      or (resp_head[0].startswith(b"HTTP/1.0") and "keep-alive" not in rtokens))
        log(status)

        if kind == "pass":
            self.sock.sendall(b"".join(resp_head))
            relay_body(up, Sink(self.sock), rframing)
            if resp_close:
                self.upstream.close()
            return not (client_close or resp_close)

        # cut or stall: the connection ends after the fault either way.
        if rule.headers and rframing != 0:
            self.sock.sendall(b"".join(resp_head))
            budget = rule.bytes
            if isinstance(rframing, int):
                budget = rframing // 2 if budget is None else budget
                budget = min(budget, rframing - 1)  # always short
            elif budget is None:
                budget = 1024
            try:
                if budget > 0:
                    relay_body(up, Sink(self.sock, budget), rframing)
            except BudgetSpent:
                pass
        if kind == "stall":
            STOP.wait(rule.seconds)
        self.upstream.close()
        self.sock.close()  # FIN: the client sees a short body or no answer
        return False


# --- main ----------------------------------------------------------------------------

class _Stop(Exception):
    pass


def _on_signal(signum, frame):
    raise _Stop()


def main():
    p = argparse.ArgumentParser(description="Fault-injecting HTTP/1.1 reverse proxy for tests "
                                "(fault spec syntax: see the top of this file).")
    p.add_argument("--upstream-port", type=int, required=True)
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: any free one)")
    p.add_argument("--faults", default="", help="fault spec, e.g. 503:every=3,cut:every=4")
    p.add_argument("--max-faults", type=int, default=None,
                   help="pass everything once this many faults were injected")
    p.add_argument("--log", help="one line per request")
    p.add_argument("--port-file", help="where to write the port once listening")
    args = p.parse_args()
    try:
        faults = Faults(args.faults, args.max_faults)
    except ValueError as e:
        p.error(f"--faults: {e}")
    log = Log(args.log)

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)
    port = listener.getsockname()[1]
    if args.port_file:
        tmp = f"{args.port_file}.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(port, flush=True)

    conn_id = 0
    try:
        while True:
            sock, _ = listener.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn_id += 1
            conn = Connection(sock, conn_id, args, faults, log)
            threading.Thread(target=conn.run, name=f"conn-{conn_id}", daemon=True).start()
    except _Stop:
        pass
    # Connection threads may be mid-transfer or mid-stall; the log is closed
    # under its lock so no line is half written, then the process ends
    # without waiting for them.
    STOP.set()
    listener.close()
    log.close()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
