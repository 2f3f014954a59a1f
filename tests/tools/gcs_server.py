#!/usr/bin/env python3
"""A strict Google Cloud Storage JSON API server for tests (Python 3 stdlib only).

    gcs_server.py serve --root DIR [--port 0] [--port-file FILE] [--log FILE]
                        [--bucket NAME]... [options]
    gcs_server.py store --root DIR COMMAND ARGS...    (the store, offline)
    gcs_server.py jwt --sa-file FILE [options]        (a signed JWT assertion)

Why not an emulator: the firebase storage emulator (and fake-gcs-server)
ignore authentication and preconditions, finalise resumable uploads at the
first chunk and keep objects in memory. This server does what the GCS JSON
API documentation says, refuses what it refuses, and keeps objects on disk,
so a client's handling of auth, preconditions, resumable sessions, paging and
failures can be tested, with gigabyte objects. tests/cli/test_gcs_harness.sh
proves it against Google's own Node.js client (@google-cloud/storage).

Everything listens on 127.0.0.1 only. Once listening, `serve` prints the
port and writes it to --port-file (atomically). SIGTERM/SIGINT end it at once
(status 0); what was committed is on disk, a chunk in flight is lost as if
the server had crashed.

Endpoints (JSON API, as on storage.googleapis.com)
---------------------------------------------------
  GET    /storage/v1/b/BUCKET                       buckets.get
  GET    /storage/v1/b/BUCKET/o                     objects.list: prefix,
         delimiter, startOffset, endOffset, maxResults (default and cap 1000),
         pageToken; "items"/"prefixes" are left out when empty, as GCS does
  GET    /storage/v1/b/BUCKET/o/OBJECT              objects.get (alt=json|media)
  GET    /download/storage/v1/b/BUCKET/o/OBJECT     media download (mediaLink)
  DELETE /storage/v1/b/BUCKET/o/OBJECT              objects.delete -> 204
  POST   /upload/storage/v1/b/BUCKET/o?uploadType=media|multipart|resumable
  PUT|POST   SESSION-URI                            a resumable chunk or a
         status query (Content-Range: bytes */TOTAL or bytes */*)
  DELETE SESSION-URI                                cancel -> 499
  POST   /token                                     OAuth 2.0 JWT-bearer grant
  GET    /computeMetadata/v1/...                    GCE metadata server (token,
         email, project-id); needs "Metadata-Flavor: Google", else 403

OBJECT is the whole rest of the path, percent-encoded ('/' as %2F): a raw '/'
or an invalid escape is refused (400). Preconditions ifGenerationMatch (0 =
must not exist), ifGenerationNotMatch, ifMetagenerationMatch,
ifMetagenerationNotMatch apply to get, insert (checked at the initiation AND
at the finalisation of a resumable upload) and delete; a failed one answers
412 conditionNotMet (GET with a *NotMatch: 304). Object resources carry
generation/metageneration/size as strings, md5Hash and crc32c in base64 (big
endian CRC32C), contentType, timeCreated, updated, etag, selfLink, mediaLink.
Media responses (alt=media) honour Range (206 + Content-Range; 416 when
unsatisfiable) and send x-goog-generation, x-goog-metageneration,
x-goog-hash (crc32c=..,md5=..), x-goog-stored-content-length and
x-goog-stored-content-encoding. Uploads check X-Goog-Hash and the md5Hash /
crc32c given in metadata against the bytes (400 on a mismatch).

Resumable uploads (what GCS does; ALIGN = 256 KiB = 262144 bytes)
------------------------------------------------------------------
  Initiation: 200, empty body, "Location: http://HOST/upload/storage/v1/b/B/o?
  uploadType=resumable&name=N&upload_id=ID" (HOST from the Host header) and
  X-GUploader-UploadID. Metadata in the JSON body, X-Upload-Content-Type and
  X-Upload-Content-Length are honoured. Chunks go to the session URI with PUT
  (or POST) and "Content-Range: bytes A-B/TOTAL", "bytes A-B/*" (total not
  known yet) or "bytes A-*/TOTAL|*" (the rest of the object, final). The
  session URI is the credential: chunks need no Authorization header (one
  that is sent must be valid).
  - A non-final chunk must be a multiple of ALIGN bytes: smaller than ALIGN
    -> 400 with GCS's own text; a larger non-multiple -> 400 too
    (--unaligned-chunks reject, the default, as the docs require) or, with
    --unaligned-chunks truncate, what GCS is seen to do: only the aligned
    prefix is persisted and the 308 says so.
  - Non-final chunk: "308 Resume Incomplete" with "Range: bytes=0-N" (N = last
    byte persisted). The client must take the next offset from Range, never
    assume the whole chunk was kept.
  - Status query (empty body, "bytes */TOTAL" or "bytes */*"): 308 with the
    persisted Range, and no Range header at all while nothing is persisted;
    200 with the object once finalised. "bytes */TOTAL" with TOTAL equal to
    the persisted size finalises the upload (how an upload of unknown size
    that ends on a chunk boundary is closed).
  - A chunk starting before the persisted offset: the bytes already held are
    skipped (a fully held chunk just gets the 308 again). Starting after it:
    503, text/plain "Invalid request.  According to the Content-Range header,
    the upload offset is A byte(s), which exceeds already uploaded size of P
    byte(s)." (GCS's text; clients tell it from a transient 503 by the
    content type).
  - Final chunk: 200 with the object resource. Preconditions fail -> 412
    (JSON), and the session stays failed (later requests get the same 412).
  - Any request after finalisation: 200 with the object. Cancelled (DELETE ->
    499 Client Closed Request): later requests get 410 Gone. Unknown id: 404.
  - "X-GUploader-No-308: yes": 200 with "X-HTTP-Status-Code-Override: 308"
    instead of a 308 (what GCS does for the Go client).
  - A connection that breaks mid-chunk (client killed, or a "cut" fault):
    the 256 KiB-aligned prefix of what arrived is persisted, as GCS may do,
    so a resumed upload must start with a status query.
  Session-level protocol errors (bad Content-Range, the offset gap, unaligned
  chunk) are text/plain, as GCS's upload front end sends them; API errors
  (412, hash mismatch, 404 bucket) are JSON.

Errors are GCS JSON errors: {"error": {"code": N, "message": M, "errors":
[{"message": M, "domain": "global", "reason": R, ...}]}} with GCS's reasons:
required / authError (401, with WWW-Authenticate), forbidden (403), notFound
(404), conditionNotMet (412), invalid (400), requestedRangeNotSatisfiable
(416), backendError (503), ...

Authentication
--------------
Every storage request needs "Authorization: Bearer TOKEN" (else 401) unless
--no-auth, or it is a read (get, list, download) of a --public-bucket. Valid
tokens: --static-token (full access), tokens this server issued and that have
not expired (--token-lifetime, default 3599 s). --denied-token TOKEN
authenticates but may do nothing (403, as a principal without IAM roles).
A token granted only devstorage.read_only may read (403 on writes).
  POST /token, form-encoded grant_type=urn:ietf:params:oauth:grant-type:
  jwt-bearer&assertion=JWT: the JWT must be RS256, signed by the key given
  with --service-account-public-key (checked with the openssl CLI: the
  standard library has no RSA), kid (if --service-account-key-id and the
  header has one) must match, iss = --service-account-email, sub absent or =
  iss, aud = the token URI (--token-uri, default http://127.0.0.1:PORT/token),
  iat within 5 minutes of now, iat < exp <= iat + 3600, exp > now, and scope
  must include devstorage.read_only/read_write/full_control or cloud-platform.
  Success: {"access_token", "expires_in", "token_type": "Bearer"}. Failure:
  400 {"error": "invalid_grant", "error_description": "Invalid JWT
  Signature."} and Google's other texts (invalid_scope, unauthorized_client,
  unsupported_grant_type).
  GET /computeMetadata/v1/instance/service-accounts/default/token (with
  Metadata-Flavor: Google) issues a token the same way (point GCE_METADATA_HOST
  at 127.0.0.1:PORT). Answers carry "Metadata-Flavor: Google".
Issued tokens survive a restart when --token-file names the same file.

Test control API (no auth; not logged)
--------------------------------------
  POST   /_test/faults   add a rule, JSON: {"kind": K, "count": N (1),
         "method": "PUT", "path": "substring of the request target", ...}
         K = "status": answer "status" (503) with a GCS JSON error after
             reading the request body; "retry_after": seconds adds Retry-After.
             Nothing is done.
           = "cut": a request with a body: read "after_bytes" of it (default
             half), then close the connection without answering; a resumable
             chunk first persists the 256 KiB-aligned prefix of what arrived
             ("persist": "none" keeps nothing). A media download: send the
             headers and "after_bytes" (default half) of the body, then
             close. Any other request: read it, do nothing, close.
           = "stall": read the request, do nothing for "seconds" (10), close.
           = "reset": reset the connection (RST) once the head is read.
         Rules are tried in order; the first one that matches fires and
         counts down; requests to /_test/ never match.
  GET    /_test/faults   the rules still armed;  DELETE /_test/faults clears
  GET    /_test/log      the request log (below)
  GET    /_test/stats    {"requests", "tokens_issued", "tokens_by_grant":
         {"jwt", "metadata"}, "faults_fired", "open_sessions"}
  POST   /_test/expire-tokens   every issued token expires now

Request log (--log FILE, and GET /_test/log): one line per request, written
as soon as its status is known (before the client has read the answer),
fields separated by single spaces:
  1 method  2 request target as sent (%-encoded, no spaces)  3 status, or "-"
  when none was sent  4 request body bytes received  5 fault kind or "-"
  6 connection serial number  7 Content-Range of the request without
  "bytes " (e.g. 0-262143/* or */*), or "-"

On-disk layout of --root (the store; `store` and tests/cli/gcs.sh use it)
-------------------------------------------------------------------------
  ROOT/.lock                      flock(2)ed by every reader (shared) and
                                  writer (exclusive) of objects: take it
                                  to see an object's two files consistent
  ROOT/generation                 the last generation handed out (decimal)
  ROOT/buckets/BUCKET/            a bucket exists iff its folder does
  ROOT/buckets/BUCKET/bucket.json its creation time
  ROOT/buckets/BUCKET/objects/KEY.data   the object's bytes
  ROOT/buckets/BUCKET/objects/KEY.json   its metadata: name, generation,
                                  metageneration, size, md5Hash, crc32c,
                                  contentType, timeCreated, updated, metadata
      KEY is the object name with every byte outside A-Z a-z 0-9 . _ ~ -
      as %XX (upper case), so '/' is %2F; a KEY that would be longer than
      200 characters is "~" + sha256(name) in hex (the .json has the name).
  ROOT/uploads/ID/session.json    a resumable session: bucket, name, state
                                  (open|final|failed|cancelled), persisted,
                                  total, preconditions, metadata
  ROOT/uploads/ID/data            its persisted bytes
  ROOT/tmp/                       bodies being received (same filesystem, so
                                  a finished upload is renamed into place)
Every write gets a new generation, larger than any before (microseconds since
the epoch, or the last one + 1), even when the bytes are the same.
`store` commands (flock'd; the server may be running or not):
  mkbucket BUCKET | keys BUCKET PREFIX | cat BUCKET NAME | put BUCKET NAME FILE
  | delete BUCKET NAME | state BUCKET PREFIX | sessions BUCKET [PREFIX]
"""

import argparse
import base64
import contextlib
import datetime
import fcntl
import functools
import hashlib
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ALIGN = 256 * 1024          # resumable chunk granularity (GCS: 256 KiB)
PIECE = 1 << 20             # largest single read or write while streaming
HASH_BLOCK = 8 << 20        # file bytes hashed per step
MAX_LIST = 1000             # objects.list page size default and cap
SMALL_BODY = 1 << 20        # JSON bodies, forms, multipart heads: at most this
DRAIN_LIMIT = 64 << 20      # an unwanted body larger than this: close instead
JSON_TYPE = "application/json; charset=UTF-8"
TEXT_TYPE = "text/plain; charset=utf-8"

SCOPE_PREFIX = "https://www.googleapis.com/auth/"
WRITE_SCOPES = {SCOPE_PREFIX + s for s in ("devstorage.read_write", "devstorage.full_control",
                                           "cloud-platform")}
READ_SCOPES = WRITE_SCOPES | {SCOPE_PREFIX + s for s in ("devstorage.read_only",
                                                        "cloud-platform.read-only")}
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Google's own texts for these token endpoint failures.
BAD_SIGNATURE = "Invalid JWT Signature."
BAD_TIME = ("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
            "timeframe. Check your iat and exp values in the JWT claim.")


# --- CRC32C ------------------------------------------------------------------------
# The standard library has no CRC32C (Castagnoli), the checksum GCS keeps for
# every object, and a byte-at-a-time loop runs at ~5 MB/s. This one is exact
# and ~10x faster: the CRC register is GF(2)-linear in the input, so the
# contribution of a byte depends only on its value and its distance to the
# end. Bytes at the same position within 256-byte blocks share one 256-entry
# table, and bytes.translate applies it to all of them at C speed (one table
# per output byte); the per-block values are then folded the same way, 128 at
# a time, and the few left are combined in Python.

_POLY = 0x82F63B78  # Castagnoli, reflected
_T = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _T.append(_c)
del _i, _c


def _raw_small(data, reg=0):
    """The register after `data`, starting from `reg` (no init, no final xor)."""
    t = _T
    for b in data:
        reg = (reg >> 8) ^ t[(reg ^ b) & 0xFF]
    return reg


class _Lin:
    """A GF(2)-linear map on 32-bit values (its 32 columns), applied with
    four byte tables."""
    __slots__ = ("cols", "tabs")

    def __init__(self, cols):
        self.cols = cols
        self.tabs = []
        for lane in range(4):
            tab = [0] * 256
            for bit in range(8):
                col, step = cols[8 * lane + bit], 1 << bit
                for v in range(step, 2 * step):
                    tab[v] = tab[v - step] ^ col
            self.tabs.append(tab)

    def __call__(self, v):
        t0, t1, t2, t3 = self.tabs
        return t0[v & 0xFF] ^ t1[(v >> 8) & 0xFF] ^ t2[(v >> 16) & 0xFF] ^ t3[v >> 24]

    def then(self, other):
        return _Lin([other(c) for c in self.cols])


_ZERO_BYTE = _Lin([_raw_small(b"\0", 1 << j) for j in range(32)])
_IDENTITY = _Lin([1 << j for j in range(32)])


@functools.lru_cache(maxsize=128)
def _zeros(n):
    """The register map of n zero bytes."""
    result, base = _IDENTITY, _ZERO_BYTE
    while n:
        if n & 1:
            result = result.then(base)
        n >>= 1
        if n:
            base = base.then(base)
    return result


_L0, _L1 = 256, 128
_BLOCK = _L0 * _L1


def _translate_tables(lin, in_lanes):
    out = []
    for lane in range(in_lanes):
        vals = [lin(b << (8 * lane)) for b in range(256)]
        out.append([bytes((v >> (8 * o)) & 0xFF for v in vals) for o in range(4)])
    return out


@functools.lru_cache(maxsize=1)
def _fold_tables():
    t0 = [_translate_tables(_Lin([_zeros(_L0 - 1 - i)(_T[1 << k]) for k in range(8)] + [0] * 24), 1)[0]
          for i in range(_L0)]
    t1 = [_translate_tables(_zeros(_L0 * (_L1 - 1 - i)), 4) for i in range(_L1)]
    return t0, t1


def _raw_blocks(data):
    """The register after `data` from 0; len(data) is a multiple of _BLOCK."""
    t0, t1 = _fold_tables()
    k1 = len(data) // _L0
    acc = [0, 0, 0, 0]
    for i in range(_L0):
        s = data[i::_L0]
        tabs = t0[i]
        for o in range(4):
            acc[o] ^= int.from_bytes(s.translate(tabs[o]), "little")
    lanes = [a.to_bytes(k1, "little") for a in acc]
    k2 = k1 // _L1
    acc = [0, 0, 0, 0]
    for i in range(_L1):
        tabs = t1[i]
        for lane in range(4):
            s = lanes[lane][i::_L1]
            tl = tabs[lane]
            for o in range(4):
                acc[o] ^= int.from_bytes(s.translate(tl[o]), "little")
    lanes = [a.to_bytes(k2, "little") for a in acc]
    step = _zeros(_BLOCK)
    reg = 0
    for k in range(k2):
        reg = step(reg) ^ (lanes[0][k] | lanes[1][k] << 8 | lanes[2][k] << 16 | lanes[3][k] << 24)
    return reg


class Crc32c:
    """CRC32C of a byte stream; `raw` (an int) and `length` are its whole
    state, so it can be saved and resumed (the resumable sessions do)."""

    def __init__(self, raw=0, length=0):
        self.raw, self.length = raw, length

    def update(self, data):
        n = len(data)
        if n < 4 * _BLOCK:
            self.raw = _raw_small(data, self.raw)
        else:
            head = n % _BLOCK
            reg = _raw_small(data[:head], self.raw) if head else self.raw
            body = bytes(data[head:])
            self.raw = _zeros(len(body))(reg) ^ _raw_blocks(body)
        self.length += n

    def value(self):
        return self.raw ^ _zeros(self.length)(0xFFFFFFFF) ^ 0xFFFFFFFF

    def b64(self):
        return base64.b64encode(struct.pack(">I", self.value())).decode()


# --- small helpers -----------------------------------------------------------------

def rfc3339(t):
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def b64url_decode(s):
    if not re.fullmatch(r"[A-Za-z0-9_-]*", s):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def object_key(name):
    key = "".join(chr(b) if (chr(b).isascii() and (chr(b).isalnum() or chr(b) in "._~-"))
                  else f"%{b:02X}" for b in name.encode("utf-8"))
    return key if len(key) <= 200 else "~" + hashlib.sha256(name.encode("utf-8")).hexdigest()


def write_json_atomic(path, obj):
    tmp = f"{path}.tmp{os.getpid()}.{threading.get_ident()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def etag_of(generation, metageneration):
    """Like GCS's: base64 of a small protobuf (generation, metageneration)."""
    def varint(n):
        out = bytearray()
        while True:
            b, n = n & 0x7F, n >> 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out)
    return base64.b64encode(b"\x08" + varint(generation) + b"\x10" + varint(metageneration)).decode()


def hash_file(path, start, end, crc=None, md5=None):
    """Feeds bytes [start, end) of path to crc (Crc32c) and md5 (hashlib)."""
    with open(path, "rb") as f:
        f.seek(start)
        left = end - start
        while left > 0:
            block = f.read(min(HASH_BLOCK, left))
            if not block:
                raise IOError(f"{path}: shorter than {end} bytes")
            if crc is not None:
                crc.update(block)
            if md5 is not None:
                md5.update(block)
            left -= len(block)


class HttpError(Exception):
    """An answer other than success, raised from anywhere in a handler."""

    def __init__(self, status, body=b"", content_type=JSON_TYPE, headers=None, phrase=None):
        super().__init__(status)
        self.status, self.body, self.content_type = status, body, content_type
        self.headers = headers or {}
        self.phrase = phrase


def api_error(status, reason, message, headers=None, **extra):
    err = {"message": message, "domain": "global", "reason": reason}
    err.update(extra)
    body = json.dumps({"error": {"code": status, "message": message, "errors": [err]}}, indent=1)
    return HttpError(status, body.encode(), JSON_TYPE, headers)


def text_error(status, message, headers=None):
    return HttpError(status, message.encode(), TEXT_TYPE, headers)


def invalid(message):
    return api_error(400, "invalid", message)


def precondition_failed():
    return api_error(412, "conditionNotMet",
                     "At least one of the pre-conditions you specified did not hold.",
                     locationType="header", location="If-Match")


def not_found_object(bucket, name):
    return api_error(404, "notFound", f"No such object: {bucket}/{name}")


def not_found_bucket():
    return api_error(404, "notFound", "The specified bucket does not exist.")


# --- preconditions ------------------------------------------------------------------

PRECONDITIONS = ("ifGenerationMatch", "ifGenerationNotMatch",
                 "ifMetagenerationMatch", "ifMetagenerationNotMatch")


def parse_preconditions(query):
    out = {}
    for p in PRECONDITIONS:
        if p in query:
            v = query[p]
            if not re.fullmatch(r"-?[0-9]{1,19}", v):
                raise invalid(f"Invalid value for {p}: {v}")
            out[p] = int(v)
    return out


def check_preconditions(pre, meta, reading=False):
    """Raises 412 (or 304 for a read with a *NotMatch) unless they hold
    against meta (None: no live object)."""
    gen = meta["generation"] if meta else 0
    if "ifGenerationMatch" in pre and pre["ifGenerationMatch"] != gen:
        raise precondition_failed()
    if "ifMetagenerationMatch" in pre and (meta is None or
                                           pre["ifMetagenerationMatch"] != meta["metageneration"]):
        raise precondition_failed()
    not_match = (("ifGenerationNotMatch" in pre and pre["ifGenerationNotMatch"] == gen) or
                 ("ifMetagenerationNotMatch" in pre and meta is not None and
                  pre["ifMetagenerationNotMatch"] == meta["metageneration"]))
    if not_match:
        if reading:
            raise HttpError(304)
        raise precondition_failed()


# --- the store ------------------------------------------------------------------------

WRITABLE_FIELDS = ("contentType", "contentEncoding", "contentDisposition", "contentLanguage",
                   "cacheControl", "customTime", "metadata", "storageClass")


def validate_object_name(name):
    raw = name.encode("utf-8")
    if not 1 <= len(raw) <= 1024 or name in (".", "..") or "\r" in name or "\n" in name \
            or name.startswith(".well-known/acme-challenge/"):
        raise invalid(f"Invalid object name: {name!r}")


class Store:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        for d in ("buckets", "uploads", "tmp"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)

    @contextlib.contextmanager
    def lock(self, shared=False):
        # A new open file description each time: flock(2) then also excludes
        # other threads of this process, not just other processes.
        with open(os.path.join(self.root, ".lock"), "a") as f:
            fcntl.flock(f, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            yield

    def bucket_dir(self, bucket):
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]", bucket or ""):
            return None
        d = os.path.join(self.root, "buckets", bucket)
        return d if os.path.isdir(d) else None

    def make_bucket(self, bucket):
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]", bucket):
            raise ValueError(f"bad bucket name {bucket!r}")
        d = os.path.join(self.root, "buckets", bucket)
        os.makedirs(os.path.join(d, "objects"), exist_ok=True)
        if not os.path.exists(os.path.join(d, "bucket.json")):
            write_json_atomic(os.path.join(d, "bucket.json"), {"name": bucket, "timeCreated": time.time()})

    def bucket_info(self, bucket):
        d = self.bucket_dir(bucket)
        if d is None:
            return None
        with open(os.path.join(d, "bucket.json"), encoding="utf-8") as f:
            return json.load(f)

    def _paths(self, bucket, name):
        d = self.bucket_dir(bucket)
        if d is None:
            raise not_found_bucket()
        base = os.path.join(d, "objects", object_key(name))
        return base + ".json", base + ".data"

    def _read_meta(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def get(self, bucket, name):
        jpath, _ = self._paths(bucket, name)
        with self.lock(shared=True):
            return self._read_meta(jpath)

    def open(self, bucket, name):
        """(meta, open data file) or (None, None); the file stays readable
        if a writer replaces the object meanwhile."""
        jpath, dpath = self._paths(bucket, name)
        with self.lock(shared=True):
            meta = self._read_meta(jpath)
            if meta is None:
                return None, None
            return meta, open(dpath, "rb")

    def tmp_path(self):
        return os.path.join(self.root, "tmp", f"body-{os.getpid()}-{secrets.token_hex(8)}")

    def _next_generation(self):
        path = os.path.join(self.root, "generation")
        try:
            with open(path, encoding="ascii") as f:
                last = int(f.read().strip() or 0)
        except FileNotFoundError:
            last = 0
        gen = max(time.time_ns() // 1000, last + 1)
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(f"{gen}\n")
        os.replace(tmp, path)
        return gen

    def commit(self, bucket, name, data_path, size, md5_b64, crc_b64, fields, pre):
        """Makes data_path (renamed, not copied) the live object if the
        preconditions hold against the live object; returns its meta."""
        jpath, dpath = self._paths(bucket, name)
        with self.lock():
            old = self._read_meta(jpath)
            check_preconditions(pre, old)
            gen = self._next_generation()
            now = time.time()
            meta = {"name": name, "bucket": bucket, "generation": gen, "metageneration": 1,
                    "size": size, "md5Hash": md5_b64, "crc32c": crc_b64,
                    "contentType": fields.get("contentType") or "application/octet-stream",
                    "timeCreated": now, "updated": now}
            for f in WRITABLE_FIELDS:
                if f != "contentType" and f in fields:
                    meta[f] = fields[f]
            os.replace(data_path, dpath)
            write_json_atomic(jpath, meta)
            return meta

    def delete(self, bucket, name, pre):
        jpath, dpath = self._paths(bucket, name)
        with self.lock():
            old = self._read_meta(jpath)
            if old is None:
                raise not_found_object(bucket, name)
            check_preconditions(pre, old)
            os.unlink(jpath)
            os.unlink(dpath)

    def list(self, bucket):
        """Every live object's meta, sorted by name (UTF-8 byte order)."""
        d = self.bucket_dir(bucket)
        if d is None:
            raise not_found_bucket()
        odir = os.path.join(d, "objects")
        metas = []
        with self.lock(shared=True):
            for entry in os.listdir(odir):
                if entry.endswith(".json"):
                    m = self._read_meta(os.path.join(odir, entry))
                    if m is not None:
                        metas.append(m)
        metas.sort(key=lambda m: m["name"].encode("utf-8"))
        return metas

    # Resumable sessions: ROOT/uploads/ID/{session.json,data}.

    def session_dir(self, upload_id):
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,128}", upload_id or ""):
            return None
        return os.path.join(self.root, "uploads", upload_id)

    def load_session(self, upload_id):
        d = self.session_dir(upload_id)
        if d is None:
            return None
        try:
            with open(os.path.join(d, "session.json"), encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def save_session(self, sess):
        write_json_atomic(os.path.join(self.session_dir(sess["upload_id"]), "session.json"), sess)

    def sessions(self):
        out = []
        for upload_id in os.listdir(os.path.join(self.root, "uploads")):
            s = self.load_session(upload_id)
            if s is not None:
                out.append(s)
        return out


# --- tokens, faults, log, stats -----------------------------------------------------

class Tokens:
    def __init__(self, static, denied, lifetime, path):
        self.lock = threading.Lock()
        self.static, self.denied, self.lifetime, self.path = set(static), set(denied), lifetime, path
        self.issued = {}  # token -> {"expiry", "scopes", "grant"}
        self.by_grant = {"jwt": 0, "metadata": 0}
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    rec = json.loads(line)
                    self.issued[rec["token"]] = rec

    def issue(self, scopes, grant):
        token = "ya29.mlpack-test-" + secrets.token_urlsafe(32)
        rec = {"token": token, "expiry": time.time() + self.lifetime, "scopes": sorted(scopes),
               "grant": grant}
        with self.lock:
            self.issued[token] = rec
            self.by_grant[grant] += 1
            if self.path:
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(rec) + "\n")
        return token

    def expire_all(self):
        with self.lock:
            for rec in self.issued.values():
                rec["expiry"] = 0
            if self.path:
                tmp = self.path + ".tmp"
                with open(tmp, "w", encoding="utf-8") as f:
                    for rec in self.issued.values():
                        f.write(json.dumps(rec) + "\n")
                os.replace(tmp, self.path)

    def check(self, token):
        """'write', 'read', 'denied' or None (unknown or expired)."""
        if token in self.static:
            return "write"
        if token in self.denied:
            return "denied"
        with self.lock:
            rec = self.issued.get(token)
        if rec is None or rec["expiry"] <= time.time():
            return None
        scopes = set(rec["scopes"])
        if scopes & WRITE_SCOPES:
            return "write"
        return "read" if scopes & READ_SCOPES else "denied"


FAULT_KINDS = ("status", "cut", "stall", "reset")


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.fired = 0

    def add(self, spec):
        if not isinstance(spec, dict) or spec.get("kind") not in FAULT_KINDS:
            raise ValueError(f"a fault rule needs kind in {FAULT_KINDS}")
        known = {"kind", "count", "method", "path", "status", "retry_after", "after_bytes",
                 "seconds", "persist"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}")
        rule = {"kind": spec["kind"], "count": int(spec.get("count", 1)),
                "method": spec.get("method"), "path": spec.get("path"),
                "status": int(spec.get("status", 503)), "retry_after": spec.get("retry_after"),
                "after_bytes": spec.get("after_bytes"), "seconds": float(spec.get("seconds", 10)),
                "persist": spec.get("persist", "aligned")}
        if rule["count"] < 1 or not 400 <= rule["status"] <= 599 or \
                rule["persist"] not in ("aligned", "none"):
            raise ValueError("count must be >= 1, status 400-599, persist aligned|none")
        with self.lock:
            self.rules.append(rule)

    def take(self, method, target):
        with self.lock:
            for rule in self.rules:
                if rule["method"] and rule["method"].upper() != method:
                    continue
                if rule["path"] and rule["path"] not in target:
                    continue
                rule["count"] -= 1
                if rule["count"] == 0:
                    self.rules.remove(rule)
                self.fired += 1
                return dict(rule)
        return None

    def snapshot(self):
        with self.lock:
            return [dict(r) for r in self.rules]

    def clear(self):
        with self.lock:
            self.rules.clear()


class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.lines = []
        self.file = open(path, "a", encoding="utf-8") if path else None

    def write(self, line):
        with self.lock:
            self.lines.append(line)
            if self.file is not None:
                self.file.write(line + "\n")
                self.file.flush()


# --- HTTP ---------------------------------------------------------------------------

class Truncated(Exception):
    """The client went away (or stalled past the timeout) inside a body."""


class Abort(Exception):
    """Close the connection without (further) answer."""

    def __init__(self, reset=False):
        super().__init__()
        self.reset = reset


class Body:
    """The request body, Content-Length or chunked, read in pieces."""

    def __init__(self, rfile, headers):
        self.rfile = rfile
        self.received = 0
        te = (headers.get("Transfer-Encoding") or "").lower()
        self.chunked = "chunked" in te
        self.length = None
        self.left = 0
        self.done = False
        if self.chunked:
            self.chunk_left = 0
        else:
            cl = headers.get("Content-Length")
            if cl is not None:
                if not re.fullmatch(r"[0-9]{1,18}", cl.strip()):
                    raise text_error(400, "Bad Content-Length")
                self.length = int(cl)
            else:
                self.length = 0
            self.left = self.length
            self.done = self.left == 0

    def _raw(self, n):
        try:
            data = self.rfile.read(n)
        except (OSError, ValueError) as e:  # reset, timeout
            raise Truncated(str(e)) from None
        if len(data) < n:
            raise Truncated("EOF inside the body")
        return data

    def read(self, n=PIECE):
        """Up to n bytes; b"" at the end of the body."""
        if self.done:
            return b""
        if not self.chunked:
            data = self._raw(min(n, self.left))
            self.left -= len(data)
            self.done = self.left == 0
            self.received += len(data)
            return data
        if self.chunk_left == 0:
            try:
                line = self.rfile.readline(1024)
            except (OSError, ValueError) as e:
                raise Truncated(str(e)) from None
            if not line.endswith(b"\n"):
                raise Truncated("EOF in a chunk size")
            m = re.match(rb"\s*([0-9A-Fa-f]{1,15})\s*(;.*)?\r?\n$", line)
            if not m:
                raise Truncated("bad chunk size line")
            size = int(m.group(1), 16)
            if size == 0:
                while True:  # trailers
                    t = self.rfile.readline(8192)
                    if t in (b"\r\n", b"\n", b""):
                        break
                self.done = True
                return b""
            self.chunk_left = size
        data = self._raw(min(n, self.chunk_left))
        self.chunk_left -= len(data)
        if self.chunk_left == 0:
            self._raw(2)  # CRLF
        self.received += len(data)
        return data

    def read_all(self, limit=SMALL_BODY):
        out = bytearray()
        while True:
            piece = self.read()
            if not piece:
                return bytes(out)
            out += piece
            if len(out) > limit:
                raise text_error(413, "Request body too large")

    def drain(self, limit=DRAIN_LIMIT):
        """Reads what is left; False if more than limit is left (then the
        connection must be closed)."""
        if self.length is not None and not self.chunked and self.left > limit:
            return False
        got = 0
        while True:
            piece = self.read()
            if not piece:
                return True
            got += len(piece)
            if got > limit:
                return False


def parse_query(raw):
    if re.search(r"%(?![0-9A-Fa-f]{2})", raw):
        raise invalid("Invalid percent-encoding in the query string")
    try:
        pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise invalid("Invalid query string") from None
    out = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


def decode_segment(seg, what):
    if re.search(r"%(?![0-9A-Fa-f]{2})", seg):
        raise invalid(f"Invalid percent-encoding in the {what}")
    try:
        return urllib.parse.unquote_to_bytes(seg).decode("utf-8")
    except UnicodeDecodeError:
        raise invalid(f"The {what} is not valid UTF-8") from None


CONTENT_RANGE = re.compile(r"bytes\s+(?:(\*)|([0-9]{1,18})-([0-9]{1,18}|\*))/([0-9]{1,18}|\*)")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mlpack-gcs-test"

    def version_string(self):
        return self.server_version
    timeout = 120  # a client silent this long inside a request is gone

    # -- plumbing --

    def log_message(self, fmt, *args):  # the request log is ours
        pass

    def setup(self):
        super().setup()
        with self.server.conn_lock:
            self.server.conn_serial += 1
            self.conn_id = self.server.conn_serial

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def dispatch(self):
        self.logged = False
        self.fault = None
        self.body = None
        self.status_sent = None
        target = self.path
        raw_path, _, raw_query = target.partition("?")
        control = raw_path.startswith("/_test/")
        try:
            self.body = Body(self.rfile, self.headers)
            if not control:
                with self.server.stats_lock:
                    self.server.stats["requests"] += 1
                self.fault = self.server.faults.take(self.command, target)
                if self.fault:
                    self.apply_early_fault()
            self.route(raw_path, raw_query)
            if not self.body.done and not self.body.drain():
                self.close_connection = True
        except HttpError as e:
            if self.body is None:
                self.close_connection = True
            elif not self.body.done:
                try:
                    if not self.body.drain():
                        self.close_connection = True
                except Truncated:
                    self.close_connection = True
            try:
                self.respond(e.status, e.body, e.content_type, e.headers, phrase=e.phrase)
            except OSError:
                self.close_connection = True
        except Truncated:
            self.log_request_line("-")
            self.close_connection = True
        except Abort as e:
            self.log_request_line("-")
            self.close_connection = True
            with contextlib.suppress(OSError):
                if e.reset:  # close(2) with SO_LINGER 0 sends a RST
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                else:
                    self.connection.shutdown(socket.SHUT_RDWR)
        except (BrokenPipeError, ConnectionResetError):
            self.log_request_line("-")
            self.close_connection = True
        except Exception as e:  # a bug here: answer 500 and say so on stderr
            import traceback
            traceback.print_exc()
            if self.status_sent is None:
                with contextlib.suppress(Exception):
                    err = api_error(500, "internalError", f"Internal error: {type(e).__name__}: {e}")
                    self.respond(500, err.body, JSON_TYPE)
            self.close_connection = True

    def log_request_line(self, status):
        if self.logged or self.path.startswith("/_test/"):
            return
        self.logged = True
        cr = self.headers.get("Content-Range")
        cr = cr.strip().removeprefix("bytes").strip().replace(" ", "") if cr else "-"
        received = self.body.received if self.body is not None else 0
        fault = self.fault["kind"] if self.fault else "-"
        self.server.log.write(f"{self.command} {self.path} {status} {received} {fault} "
                              f"{self.conn_id} {cr or '-'}")

    def respond(self, status, body=b"", content_type=JSON_TYPE, headers=None, phrase=None,
                send_body=True):
        self.log_request_line(str(status))
        self.status_sent = status
        self.send_response(status, phrase)
        if status not in (204, 304):
            self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and send_body and self.command != "HEAD":
            self.wfile.write(body)

    def respond_json(self, obj, status=200, headers=None):
        self.respond(status, json.dumps(obj, indent=1).encode(), JSON_TYPE, headers)

    def host(self):
        return self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"

    # -- faults --

    def apply_early_fault(self):
        f = self.fault
        if f["kind"] == "reset":
            raise Abort(reset=True)
        if f["kind"] == "status":
            headers = {}
            if f["retry_after"] is not None:
                headers["Retry-After"] = str(f["retry_after"])
            reasons = {429: ("rateLimitExceeded", "The rate of change requests to the object "
                             "exceeds the rate limit. Please reduce the rate of create, update, "
                             "and delete requests."),
                       500: ("internalError", "Internal Error"),
                       502: ("backendError", "Bad Gateway"),
                       503: ("backendError", "We encountered an internal error. Please try again."),
                       504: ("backendError", "Gateway Timeout")}
            reason, message = reasons.get(f["status"], ("backendError", "Injected failure"))
            raise api_error(f["status"], reason, message, headers=headers)
        if f["kind"] == "stall":
            with contextlib.suppress(Truncated):
                self.body.drain(limit=1 << 62)
            self.server.stopping.wait(f["seconds"])
            raise Abort()
        # "cut" is carried out where the body or the download is handled;
        # requests that have neither are read, then dropped.

    def cut_budget(self, total):
        after = self.fault.get("after_bytes")
        if after is not None:
            return max(0, int(after))
        return total // 2 if total else 65536

    def cut_plain_request(self):
        """A cut on a request whose body is not streamed anywhere: read the
        part allowed, then drop the connection."""
        budget = self.cut_budget(self.body.length if not self.body.chunked else 0)
        with contextlib.suppress(Truncated):
            while budget > 0:
                piece = self.body.read(min(PIECE, budget))
                if not piece:
                    break
                budget -= len(piece)
        raise Abort()

    # -- routing --

    def route(self, raw_path, raw_query):
        if raw_path.startswith("/_test/"):
            return self.control(raw_path)
        is_storage = re.match(r"/(storage|upload/storage|download/storage)/v1/", raw_path)
        if self.fault and self.fault["kind"] == "cut" and not is_storage:
            self.cut_plain_request()
        if raw_path == "/token":
            return self.token_endpoint()
        if raw_path == "/computeMetadata" or raw_path.startswith("/computeMetadata/"):
            return self.metadata(raw_path, raw_query)
        query = parse_query(raw_query)
        m = re.fullmatch(r"/(storage|upload/storage|download/storage)/v1/b/([^/]*)(/o(/.*)?)?", raw_path)
        if not m:
            raise api_error(404, "notFound", "Not Found")
        api, raw_bucket, o_part, raw_object = m.groups()
        bucket = decode_segment(raw_bucket, "bucket name")
        name = None
        if raw_object is not None:
            raw_object = raw_object[1:]
            if "/" in raw_object:
                raise invalid("An object name in the path must be percent-encoded ('/' as %2F)")
            name = decode_segment(raw_object, "object name")
            validate_object_name(name)
        method = self.command
        if self.fault and self.fault["kind"] == "cut":
            streamed = ((api == "upload/storage" and "upload_id" in query and method in ("PUT", "POST"))
                        or (name is not None and method == "GET" and
                            (api == "download/storage" or query.get("alt") == "media")))
            if not streamed:
                self.cut_plain_request()
        if api == "storage":
            if o_part is None:
                if method != "GET":
                    raise api_error(405, "methodNotAllowed", "Method not allowed")
                return self.bucket_get(bucket)
            if name is None:
                if method != "GET":
                    raise api_error(405, "methodNotAllowed", "Method not allowed")
                return self.objects_list(bucket, query)
            if method == "GET":
                alt = query.get("alt", "json")
                if alt == "media":
                    return self.object_media(bucket, name, query)
                if alt != "json":
                    raise invalid(f"Invalid value for alt: {alt}")
                return self.object_get(bucket, name, query)
            if method == "DELETE":
                return self.object_delete(bucket, name, query)
            raise api_error(405, "methodNotAllowed", "Method not allowed")
        if api == "download/storage":
            if name is None or method != "GET":
                raise api_error(404, "notFound", "Not Found")
            return self.object_media(bucket, name, query)
        # upload/storage
        if name is not None or o_part is None:
            raise api_error(404, "notFound", "Not Found")
        if "upload_id" in query:
            if method in ("PUT", "POST"):
                return self.resumable_chunk(bucket, query)
            if method == "DELETE":
                return self.resumable_cancel(bucket, query)
            raise api_error(405, "methodNotAllowed", "Method not allowed")
        if method != "POST":
            raise api_error(405, "methodNotAllowed", "Method not allowed")
        return self.upload(bucket, query)

    # -- auth --

    def authorize(self, bucket, permission, write, resource="object"):
        srv = self.server
        if srv.no_auth:
            return
        auth = self.headers.get("Authorization")
        what = ("bucket" if resource == "bucket" else "object")
        if auth is None:
            if not write and bucket in srv.public_buckets:
                return
            raise api_error(401, "required",
                            f"Anonymous caller does not have {permission} access to the Google "
                            f"Cloud Storage {what}. Permission '{permission}' denied on resource "
                            f"(or it may not exist).",
                            headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
                            locationType="header", location="Authorization")
        scheme, _, token = auth.strip().partition(" ")
        access = srv.tokens.check(token.strip()) if scheme.lower() == "bearer" else None
        if access is None:
            raise api_error(401, "authError", "Invalid Credentials",
                            headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                                                         'error="invalid_token"'},
                            locationType="header", location="Authorization")
        if access == "denied" or (write and access == "read"):
            if access == "read":
                raise api_error(403, "forbidden", "Provided scope(s) are not authorized")
            raise api_error(403, "forbidden",
                            f"{srv.sa_email or 'caller'} does not have {permission} access to the "
                            f"Google Cloud Storage {what}. Permission '{permission}' denied on "
                            f"resource (or it may not exist).")

    def session_auth(self):
        """The session URI is the credential; a header that is sent must
        still be valid."""
        if self.server.no_auth or self.headers.get("Authorization") is None:
            return
        scheme, _, token = self.headers["Authorization"].strip().partition(" ")
        if scheme.lower() != "bearer" or self.server.tokens.check(token.strip()) is None:
            raise api_error(401, "authError", "Invalid Credentials",
                            locationType="header", location="Authorization")

    # -- buckets and objects --

    def bucket_get(self, bucket):
        self.authorize(bucket, "storage.buckets.get", False, "bucket")
        info = self.server.store.bucket_info(bucket)
        if info is None:
            raise not_found_bucket()
        t = rfc3339(info["timeCreated"])
        self.respond_json({
            "kind": "storage#bucket", "selfLink": f"http://{self.host()}/storage/v1/b/{bucket}",
            "id": bucket, "name": bucket, "projectNumber": self.server.project_number,
            "metageneration": "1", "location": "US", "storageClass": "STANDARD",
            "etag": "CAE=", "timeCreated": t, "updated": t, "locationType": "multi-region",
            "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": True},
                                 "publicAccessPrevention": "inherited"},
            "rpo": "DEFAULT"})

    def resource(self, meta):
        b, name, gen = meta["bucket"], meta["name"], meta["generation"]
        enc = urllib.parse.quote(name, safe="")
        host = self.host()
        r = {"kind": "storage#object", "id": f"{b}/{name}/{gen}",
             "selfLink": f"http://{host}/storage/v1/b/{b}/o/{enc}",
             "mediaLink": f"http://{host}/download/storage/v1/b/{b}/o/{enc}?generation={gen}&alt=media",
             "name": name, "bucket": b, "generation": str(gen),
             "metageneration": str(meta["metageneration"]), "contentType": meta["contentType"],
             "storageClass": meta.get("storageClass", "STANDARD"), "size": str(meta["size"]),
             "md5Hash": meta["md5Hash"], "crc32c": meta["crc32c"],
             "etag": etag_of(gen, meta["metageneration"]),
             "timeCreated": rfc3339(meta["timeCreated"]), "updated": rfc3339(meta["updated"]),
             "timeStorageClassUpdated": rfc3339(meta["timeCreated"]),
             "timeFinalized": rfc3339(meta["timeCreated"])}
        for f in WRITABLE_FIELDS:
            if f not in ("contentType", "storageClass") and f in meta:
                r[f] = meta[f]
        return r

    def object_get(self, bucket, name, query):
        self.authorize(bucket, "storage.objects.get", False)
        pre = parse_preconditions(query)
        meta = self.server.store.get(bucket, name)
        if meta is None or ("generation" in query and query["generation"] != str(meta["generation"])):
            raise not_found_object(bucket, name)
        check_preconditions(pre, meta, reading=True)
        self.respond_json(self.resource(meta))

    def object_media(self, bucket, name, query):
        self.authorize(bucket, "storage.objects.get", False)
        pre = parse_preconditions(query)
        meta, f = self.server.store.open(bucket, name)
        if meta is None:
            raise not_found_object(bucket, name)
        with f:
            if "generation" in query and query["generation"] != str(meta["generation"]):
                raise not_found_object(bucket, name)
            check_preconditions(pre, meta, reading=True)
            size = meta["size"]
            start, end, status = 0, size - 1, 200
            rng = self.headers.get("Range")
            headers = {
                "x-goog-generation": str(meta["generation"]),
                "x-goog-metageneration": str(meta["metageneration"]),
                "x-goog-stored-content-length": str(size),
                "x-goog-stored-content-encoding": meta.get("contentEncoding", "identity"),
                "x-goog-hash": f"crc32c={meta['crc32c']},md5={meta['md5Hash']}",
                "x-goog-storage-class": "STANDARD",
                "ETag": '"' + base64.b64decode(meta["md5Hash"]).hex() + '"',
                "Last-Modified": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(meta["updated"])),
                "Accept-Ranges": "bytes",
                "Cache-Control": "private, max-age=0",
            }
            m = re.fullmatch(r"\s*bytes=(?:([0-9]{1,18})-([0-9]{0,18})|-([0-9]{1,18}))\s*", rng or "")
            if rng is not None and m:
                if m.group(3) is not None:
                    n = int(m.group(3))
                    if n == 0 or size == 0:
                        raise api_error(416, "requestedRangeNotSatisfiable",
                                        "The requested range cannot be satisfied.",
                                        headers={"Content-Range": f"bytes */{size}"})
                    start, end = max(0, size - n), size - 1
                else:
                    start = int(m.group(1))
                    end = int(m.group(2)) if m.group(2) else size - 1
                    if start >= size or end < start:
                        raise api_error(416, "requestedRangeNotSatisfiable",
                                        "The requested range cannot be satisfied.",
                                        headers={"Content-Range": f"bytes */{size}"})
                    end = min(end, size - 1)
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            # (A Range header that is not one plain byte range is ignored:
            # the whole object, 200, as HTTP allows.)
            length = end - start + 1 if size else 0
            budget = length
            if self.fault and self.fault["kind"] == "cut":
                budget = min(self.cut_budget(length), max(length - 1, 0))
            self.log_request_line(str(status))
            self.status_sent = status
            self.send_response(status)
            self.send_header("Content-Type", meta["contentType"])
            self.send_header("Content-Length", str(length))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            if budget > 0:
                self.connection.sendfile(f, start, budget)
            if budget < length:
                raise Abort()

    def object_delete(self, bucket, name, query):
        self.authorize(bucket, "storage.objects.delete", True)
        pre = parse_preconditions(query)
        self.server.store.delete(bucket, name, pre)
        self.respond(204, b"")

    def objects_list(self, bucket, query):
        self.authorize(bucket, "storage.objects.list", False, "bucket")
        prefix = query.get("prefix", "")
        delimiter = query.get("delimiter", "")
        start_offset = query.get("startOffset", "")
        end_offset = query.get("endOffset", "")
        max_results = MAX_LIST
        if "maxResults" in query:
            v = query["maxResults"]
            if not re.fullmatch(r"[0-9]{1,10}", v) or int(v) < 1:
                raise invalid(f"Invalid value for maxResults: {v}")
            max_results = min(int(v), MAX_LIST)
        after = None
        if query.get("pageToken"):
            try:
                after = b64url_decode(query["pageToken"]).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raise invalid("Invalid page token.") from None
        items, prefixes, last, more = [], [], None, False
        seen_prefixes = set()
        for meta in self.server.store.list(bucket):
            n = meta["name"]
            if not n.startswith(prefix):
                continue
            if start_offset and n < start_offset or end_offset and n >= end_offset:
                continue
            entry, is_prefix = n, False
            if delimiter:
                i = n.find(delimiter, len(prefix))
                if i >= 0:
                    entry, is_prefix = n[:i + len(delimiter)], True
            if after is not None and entry.encode("utf-8") <= after.encode("utf-8"):
                continue
            if is_prefix and entry in seen_prefixes:
                continue
            if len(items) + len(prefixes) >= max_results:
                more = True
                break
            if is_prefix:
                seen_prefixes.add(entry)
                prefixes.append(entry)
            else:
                items.append(self.resource(meta))
            last = entry
        out = {"kind": "storage#objects"}
        if more:
            out["nextPageToken"] = b64url(last.encode("utf-8"))
        if prefixes:
            out["prefixes"] = prefixes
        if items:
            out["items"] = items
        self.respond_json(out)

    # -- uploads --

    def object_fields(self, meta_json):
        fields = {}
        for f in WRITABLE_FIELDS:
            if f in meta_json and meta_json[f] is not None:
                fields[f] = meta_json[f]
        if "metadata" in fields and (not isinstance(fields["metadata"], dict) or
                                     not all(isinstance(v, str) for v in fields["metadata"].values())):
            raise invalid("Invalid value for metadata: values must be strings")
        return fields

    def name_of(self, query, meta_json):
        qn, mn = query.get("name"), meta_json.get("name")
        if qn is not None and mn is not None and qn != mn:
            raise invalid(f"Value '{mn}' in content does not agree with value '{qn}'.")
        name = qn if qn is not None else mn
        if not name:
            raise api_error(400, "required", "Required", locationType="parameter", location="name")
        validate_object_name(name)
        return name

    def expected_hashes(self, meta_json):
        """(crc32c, md5) the client vouches for: metadata fields, then
        X-Goog-Hash (crc32c=..,md5=..)."""
        crc, md5 = meta_json.get("crc32c"), meta_json.get("md5Hash")
        for h in self.headers.get_all("X-Goog-Hash") or []:
            for part in h.split(","):
                k, _, v = part.strip().partition("=")
                if k == "crc32c":
                    crc = v
                elif k == "md5":
                    md5 = v
        return crc, md5

    def check_hashes(self, expected, crc_b64, md5_b64):
        crc, md5 = expected
        if crc is not None and crc != crc_b64:
            raise invalid(f'Provided CRC32C "{crc}" doesn\'t match calculated CRC32C "{crc_b64}".')
        if md5 is not None and md5 != md5_b64:
            raise invalid(f'Provided MD5 hash "{md5}" doesn\'t match calculated MD5 hash "{md5_b64}".')

    def receive_to(self, path, reader):
        """Streams a body (anything with read()) into a new file; returns
        (size, crc32c b64, md5 b64)."""
        size = 0
        with open(path, "wb") as out:
            while True:
                piece = reader.read(PIECE)
                if not piece:
                    break
                out.write(piece)
                size += len(piece)
        crc, md5 = Crc32c(), hashlib.md5()
        hash_file(path, 0, size, crc, md5)
        return size, crc.b64(), base64.b64encode(md5.digest()).decode()

    def upload(self, bucket, query):
        self.authorize(bucket, "storage.objects.create", True)
        store = self.server.store
        if store.bucket_dir(bucket) is None:
            raise not_found_bucket()
        upload_type = query.get("uploadType")
        if upload_type is None:
            raise api_error(400, "required", "Required parameter: uploadType",
                            locationType="parameter", location="uploadType")
        pre = parse_preconditions(query)
        if upload_type == "resumable":
            return self.resumable_start(bucket, query, pre)
        if upload_type not in ("media", "multipart"):
            raise invalid(f"Invalid upload type: {upload_type}")
        tmp = store.tmp_path()
        try:
            if upload_type == "media":
                name = self.name_of(query, {})
                fields = {"contentType": self.headers.get("Content-Type") or "application/octet-stream"}
                expected = self.expected_hashes({})
                size, crc, md5 = self.receive_to(tmp, self.body)
            else:
                meta_json, media_type = self.multipart_to(tmp)
                name = self.name_of(query, meta_json)
                fields = self.object_fields(meta_json)
                fields.setdefault("contentType", media_type or "application/octet-stream")
                expected = self.expected_hashes(meta_json)
                size, crc, md5 = self.file_hashes(tmp)
            self.check_hashes(expected, crc, md5)
            meta = store.commit(bucket, name, tmp, size, md5, crc, fields, pre)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self.respond_json(self.resource(meta))

    def file_hashes(self, path):
        size = os.path.getsize(path)
        crc, md5 = Crc32c(), hashlib.md5()
        hash_file(path, 0, size, crc, md5)
        return size, crc.b64(), base64.b64encode(md5.digest()).decode()

    def multipart_to(self, path):
        """Parses a multipart/related body (JSON metadata part, then the media
        part) and streams the media into path; returns (metadata, type)."""
        ctype = self.headers.get("Content-Type") or ""
        m = re.match(r'\s*multipart/related\s*;(.*)$', ctype, re.I)
        bm = re.search(r'boundary="?([^";]+)"?', m.group(1)) if m else None
        if not bm:
            raise invalid("multipart upload: Content-Type must be multipart/related with a boundary")
        boundary = bm.group(1).encode("latin-1")
        reader = _Scanner(self.body)
        delim = b"--" + boundary
        reader.until(delim, None, SMALL_BODY)            # preamble
        if reader.take(2) != b"\r\n":
            raise invalid("multipart upload: malformed first boundary")
        head = reader.part_head()
        if not re.search(rb"(?im)^content-type:\s*application/json", head):
            raise invalid("multipart upload: the first part must be application/json metadata")
        raw_meta = reader.until(b"\r\n" + delim, bytearray(), SMALL_BODY)
        try:
            meta_json = json.loads(bytes(raw_meta) or b"{}")
            if not isinstance(meta_json, dict):
                raise ValueError()
        except ValueError:
            raise invalid("multipart upload: the metadata part is not a JSON object") from None
        if reader.take(2) != b"\r\n":
            raise invalid("multipart upload: the media part is missing")
        head = reader.part_head()
        mt = re.search(rb"(?im)^content-type:\s*([^\r\n]+)", head)
        if re.search(rb"(?im)^content-transfer-encoding:\s*(?!binary|8bit)", head):
            raise invalid("multipart upload: only binary media parts are supported")
        with open(path, "wb") as out:
            reader.until(b"\r\n" + delim, out, None)
        if reader.take(2) != b"--":
            raise invalid("multipart upload: expected the closing boundary after the media part")
        self.body.drain()
        return meta_json, mt.group(1).decode("latin-1").strip() if mt else None

    # -- resumable uploads --

    def session_lock(self, upload_id):
        with self.server.sessions_lock:
            return self.server.session_locks.setdefault(upload_id, threading.Lock())

    def resumable_start(self, bucket, query, pre):
        store = self.server.store
        raw = self.body.read_all()
        meta_json = {}
        if raw.strip():
            try:
                meta_json = json.loads(raw)
                if not isinstance(meta_json, dict):
                    raise ValueError()
            except ValueError:
                raise invalid("The upload metadata is not a JSON object") from None
        name = self.name_of(query, meta_json)
        fields = self.object_fields(meta_json)
        if "contentType" not in fields and self.headers.get("X-Upload-Content-Type"):
            fields["contentType"] = self.headers["X-Upload-Content-Type"]
        xlen = self.headers.get("X-Upload-Content-Length")
        if xlen is not None and not re.fullmatch(r"[0-9]{1,18}", xlen.strip()):
            raise invalid("Invalid X-Upload-Content-Length")
        # The preconditions are checked now (fail fast, as GCS does) and
        # again at finalisation, against the object live at that moment.
        check_preconditions(pre, store.get(bucket, name))
        upload_id = "ADPyc" + secrets.token_urlsafe(48)
        os.makedirs(store.session_dir(upload_id))
        open(os.path.join(store.session_dir(upload_id), "data"), "wb").close()
        sess = {"upload_id": upload_id, "bucket": bucket, "name": name, "fields": fields,
                "preconditions": pre, "expected": list(self.expected_hashes(meta_json)),
                "x_upload_content_length": int(xlen) if xlen is not None else None,
                "created": time.time(), "state": "open", "persisted": 0, "total": None,
                "crc_raw": 0, "result": None, "error": None}
        store.save_session(sess)
        location = (f"http://{self.host()}/upload/storage/v1/b/{bucket}/o?uploadType=resumable&"
                    f"name={urllib.parse.quote(name, safe='')}&upload_id={upload_id}")
        self.respond(200, b"", TEXT_TYPE, {"Location": location, "X-GUploader-UploadID": upload_id})

    def respond_308(self, sess):
        headers = {"X-GUploader-UploadID": sess["upload_id"]}
        if sess["persisted"] > 0:
            headers["Range"] = f"bytes=0-{sess['persisted'] - 1}"
        if (self.headers.get("X-GUploader-No-308") or "").strip().lower() == "yes":
            headers["X-HTTP-Status-Code-Override"] = "308"
            return self.respond(200, b"", TEXT_TYPE, headers)
        self.respond(308, b"", TEXT_TYPE, headers, phrase="Resume Incomplete")

    def respond_session_state(self, sess):
        """A session that is no longer open answers every request alike."""
        if sess["state"] == "final":
            return self.respond_json(self.resource(sess["result"]),
                                     headers={"X-GUploader-UploadID": sess["upload_id"]})
        if sess["state"] == "failed":
            e = sess["error"]
            raise HttpError(e["status"], e["body"].encode(), e["content_type"])
        raise text_error(410, "The resumable upload session was cancelled. Start a new one.")

    def resumable_cancel(self, bucket, query):
        self.session_auth()
        store = self.server.store
        upload_id = query["upload_id"]
        with self.session_lock(upload_id):
            sess = store.load_session(upload_id)
            if sess is None or sess["bucket"] != bucket:
                raise text_error(404, "No such upload session.")
            if sess["state"] != "open":
                return self.respond_session_state(sess)
            sess["state"] = "cancelled"
            store.save_session(sess)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(store.session_dir(upload_id), "data"))
            self.server.md5_cache.pop(upload_id, None)
        self.respond(499, b"", TEXT_TYPE, phrase="Client Closed Request")

    def advance_hashes(self, sess, new_persisted):
        """Brings the session's CRC32C (saved in it) and MD5 (in memory, or
        recomputed) from sess["persisted"] to new_persisted."""
        data = os.path.join(self.server.store.session_dir(sess["upload_id"]), "data")
        crc = Crc32c(sess["crc_raw"], sess["persisted"])
        cached = self.server.md5_cache.get(sess["upload_id"])
        if cached is not None and cached[0] == sess["persisted"]:
            md5 = cached[1]
            hash_file(data, sess["persisted"], new_persisted, crc, md5)
        else:
            hash_file(data, sess["persisted"], new_persisted, crc, None)
            md5 = hashlib.md5()
            hash_file(data, 0, new_persisted, None, md5)
        sess["crc_raw"] = crc.raw
        sess["persisted"] = new_persisted
        self.server.md5_cache[sess["upload_id"]] = (new_persisted, md5)
        return crc, md5

    def resumable_chunk(self, bucket, query):
        self.session_auth()
        upload_id = query["upload_id"]
        with self.session_lock(upload_id):
            self._resumable_chunk(bucket, upload_id)

    def _resumable_chunk(self, bucket, upload_id):
        store = self.server.store
        sess = store.load_session(upload_id)
        if sess is None or sess["bucket"] != bucket:
            raise text_error(404, "No such upload session.")
        if sess["state"] != "open":
            return self.respond_session_state(sess)
        persisted = sess["persisted"]
        cr = self.headers.get("Content-Range")
        declared = self.body.length if not self.body.chunked else None
        if cr is None:
            # The whole object in this one request.
            if declared is None:
                raise text_error(400, "Failed to parse Content-Range header.")
            m_status, first, last, total = None, 0, declared - 1, declared
            if declared == 0:
                m_status, total = "*", 0
        else:
            m = CONTENT_RANGE.fullmatch(cr.strip())
            if not m:
                raise text_error(400, "Failed to parse Content-Range header.")
            m_status = m.group(1)
            first = int(m.group(2)) if m.group(2) is not None else None
            last = m.group(3)
            last = None if last in (None, "*") else int(last)
            total = None if m.group(4) == "*" else int(m.group(4))
        xlen = sess["x_upload_content_length"]
        if total is not None and ((sess["total"] is not None and total != sess["total"]) or
                                  (xlen is not None and total != xlen)):
            raise text_error(400, f"Invalid request. The total object size {total} in the "
                                  f"Content-Range header does not match the size given before.")

        if total is not None and total < persisted:
            raise text_error(400, f"Invalid request. The object size {total} is smaller than the "
                                  f"{persisted} byte(s) already uploaded.")

        if m_status == "*":  # status query (or closing an upload of unknown size)
            if declared is None or declared > 0:
                raise text_error(400, "Invalid request. A status query (Content-Range: bytes */...) "
                                      "must have an empty body.")
            if total is not None and total == persisted:
                return self.finalize(sess)
            return self.respond_308(sess)

        # A chunk of data: bytes first..last (last None: to the end of the body).
        if last is not None:
            if last < first:
                raise text_error(400, "Failed to parse Content-Range header.")
            if declared is not None and declared != last - first + 1:
                raise text_error(400, f"Invalid request. Content-Length ({declared}) does not match "
                                      f"the Content-Range ({last - first + 1} bytes).")
            if total is not None and last >= total:
                raise text_error(400, "Invalid request. The Content-Range ends past the object size.")
        if first > persisted:
            raise text_error(503, f"Invalid request.  According to the Content-Range header, the "
                                  f"upload offset is {first} byte(s), which exceeds already uploaded "
                                  f"size of {persisted} byte(s).")
        final = last is None or (total is not None and last == total - 1)
        length = (last - first + 1) if last is not None else None
        if not final and length is not None and length % ALIGN:
            if length < ALIGN:
                raise text_error(400, f"Invalid request. The number of bytes uploaded is required to "
                                      f"be equal or greater than {ALIGN}, except for the final request "
                                      f"(it's recommended to be the exact multiple of {ALIGN}). The "
                                      f"received request contained {length} bytes, which does not "
                                      f"meet this requirement.")
            if self.server.unaligned == "reject":
                raise text_error(400, f"Invalid request. A non-final chunk must be a multiple of "
                                      f"{ALIGN} bytes; this one has {length} bytes.")

        cut = self.fault if self.fault and self.fault["kind"] == "cut" else None
        budget = self.cut_budget(length or 0) if cut else None
        data = os.path.join(store.session_dir(upload_id), "data")
        got = 0               # body bytes read
        pos = first           # absolute offset of the next body byte
        broken = False
        with open(data, "r+b") as out:
            out.seek(persisted)
            try:
                while True:
                    want = PIECE if budget is None else min(PIECE, budget - got)
                    if want <= 0:
                        broken = True
                        break
                    piece = self.body.read(want)
                    if not piece:
                        break
                    got += len(piece)
                    skip = min(len(piece), max(0, persisted - pos))  # already held
                    if skip < len(piece):
                        out.write(memoryview(piece)[skip:])
                    pos += len(piece)
            except Truncated:
                broken = True
            end = pos  # absolute end of the bytes that arrived
            if broken:
                # What arrived is persisted up to a 256 KiB boundary (GCS may
                # keep any aligned prefix; this keeps the most it may).
                keep = persisted
                if not (cut and cut["persist"] == "none"):
                    keep = max(persisted, end - end % ALIGN)
                out.truncate(keep)
                out.flush()
            else:
                if last is not None and got != last - first + 1:
                    out.truncate(persisted)
                    raise text_error(400, "Invalid request. The body is shorter than the Content-Range.")
                if final:
                    if total is not None and end != total:
                        out.truncate(persisted)
                        raise text_error(400, f"Invalid request. The object ends at {end} bytes, "
                                              f"the Content-Range said {total}.")
                    keep = end
                else:
                    # Persisted sizes stay on 256 KiB boundaries until the
                    # final chunk (with "reject", an aligned chunk from the
                    # persisted offset ends on one anyway).
                    keep = max(persisted, end - end % ALIGN)
                out.truncate(keep)
        if keep > persisted:
            self.advance_hashes(sess, keep)
        if total is not None:
            sess["total"] = total
        store.save_session(sess)
        if broken:
            raise Abort()
        if final:
            if last is None:
                sess["total"] = end
            return self.finalize(sess)
        self.respond_308(sess)

    def finalize(self, sess):
        store = self.server.store
        upload_id = sess["upload_id"]
        sdir = store.session_dir(upload_id)
        data = os.path.join(sdir, "data")
        size = sess["persisted"]
        crc = Crc32c(sess["crc_raw"], size)
        cached = self.server.md5_cache.get(upload_id)
        if cached is not None and cached[0] == size:
            md5 = cached[1]
        else:
            md5 = hashlib.md5()
            hash_file(data, 0, size, None, md5)
        crc_b64, md5_b64 = crc.b64(), base64.b64encode(md5.digest()).decode()
        expected = list(sess["expected"])
        now_expected = self.expected_hashes({})  # X-Goog-Hash on the final request
        expected = [now_expected[0] or expected[0], now_expected[1] or expected[1]]
        try:
            self.check_hashes(expected, crc_b64, md5_b64)
            meta = store.commit(sess["bucket"], sess["name"], data, size, md5_b64, crc_b64,
                                sess["fields"], sess["preconditions"])
        except HttpError as e:
            sess["state"] = "failed"
            sess["error"] = {"status": e.status, "body": e.body.decode(), "content_type": e.content_type}
            store.save_session(sess)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(data)
            self.server.md5_cache.pop(upload_id, None)
            raise
        sess["state"] = "final"
        sess["result"] = meta
        store.save_session(sess)
        self.server.md5_cache.pop(upload_id, None)
        self.respond_json(self.resource(meta), headers={"X-GUploader-UploadID": upload_id})

    # -- OAuth token endpoint and metadata server --

    def token_error(self, error, description):
        body = json.dumps({"error": error, "error_description": description}, indent=1).encode()
        return HttpError(400, body, JSON_TYPE)

    def token_endpoint(self):
        srv = self.server
        if self.command != "POST":
            raise HttpError(405, b"Method Not Allowed", TEXT_TYPE, {"Allow": "POST"})
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        raw = self.body.read_all(65536)
        if ctype != "application/x-www-form-urlencoded":
            raise self.token_error("invalid_request", "Invalid Content-Type: expected "
                                                      "application/x-www-form-urlencoded")
        try:
            form = dict(urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True,
                                               strict_parsing=True))
        except (ValueError, UnicodeDecodeError):
            raise self.token_error("invalid_request", "Malformed request body") from None
        grant = form.get("grant_type")
        if grant != JWT_GRANT:
            raise self.token_error("unsupported_grant_type", f"Invalid grant_type: {grant or ''}")
        assertion = form.get("assertion", "")
        parts = assertion.split(".")
        try:
            if len(parts) != 3:
                raise ValueError()
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
            if not isinstance(header, dict) or not isinstance(claims, dict):
                raise ValueError()
        except ValueError:
            raise self.token_error("invalid_grant", "Invalid JWT: the assertion is not a "
                                                    "well-formed JWT (header.claims.signature)") from None
        if header.get("alg") != "RS256":
            raise self.token_error("invalid_grant", BAD_SIGNATURE)
        if srv.sa_key_id and "kid" in header and header["kid"] != srv.sa_key_id:
            raise self.token_error("invalid_grant", BAD_SIGNATURE)
        if not srv.sa_public_key or not verify_rs256(srv.sa_public_key,
                                                    (parts[0] + "." + parts[1]).encode(), signature):
            raise self.token_error("invalid_grant", BAD_SIGNATURE)
        if claims.get("iss") != srv.sa_email:
            raise self.token_error("invalid_grant", "Invalid grant: account not found")
        if "sub" in claims and claims["sub"] != srv.sa_email:
            raise self.token_error("unauthorized_client",
                                   "Client is unauthorized to retrieve access tokens using this "
                                   "method, or client not authorized for any of the scopes requested.")
        if claims.get("aud") != srv.token_uri:
            raise self.token_error("invalid_grant", f"Invalid JWT: Failed audience check. The right "
                                                    f"audience is {srv.token_uri}")
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, (int, float)) or not isinstance(exp, (int, float)) or \
                abs(iat - now) > 300 or exp <= now or exp <= iat or exp - iat > 3600:
            raise self.token_error("invalid_grant", BAD_TIME)
        scopes = set(str(claims.get("scope", "")).split())
        if not scopes & READ_SCOPES:
            raise self.token_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        token = srv.tokens.issue(scopes, "jwt")
        self.respond_json({"access_token": token, "expires_in": int(srv.tokens.lifetime),
                           "token_type": "Bearer"}, headers={"Cache-Control": "no-store"})

    def metadata(self, raw_path, raw_query):
        srv = self.server
        flavor_header = {"Metadata-Flavor": "Google"}
        if (self.headers.get("Metadata-Flavor") or "") != "Google":
            raise HttpError(403, b'Missing required header "Metadata-Flavor": "Google"\n',
                            TEXT_TYPE, flavor_header)
        if self.command != "GET":
            raise HttpError(405, b"Method Not Allowed\n", TEXT_TYPE, flavor_header)
        path = raw_path[len("/computeMetadata"):]
        sa = "/v1/instance/service-accounts/default"
        if path == sa + "/token":
            query = parse_query(raw_query)
            scopes = set(query["scopes"].replace(",", " ").split()) if query.get("scopes") else \
                {SCOPE_PREFIX + "cloud-platform"}
            token = srv.tokens.issue(scopes, "metadata")
            return self.respond_json({"access_token": token, "expires_in": int(srv.tokens.lifetime),
                                      "token_type": "Bearer"}, headers=flavor_header)
        texts = {
            "/": "v1/\n",
            "/v1/": "instance/\nproject/\n",
            "/v1/instance": "attributes/\nhostname\nid\nservice-accounts/\nzone\n",
            "/v1/instance/": "attributes/\nhostname\nid\nservice-accounts/\nzone\n",
            "/v1/instance/service-accounts/": "default/\n" + (srv.sa_email + "/\n" if srv.sa_email else ""),
            sa + "/": "aliases\nemail\nidentity\nscopes\ntoken\n",
            sa + "/email": srv.sa_email or "default",
            sa + "/scopes": SCOPE_PREFIX + "cloud-platform\n",
            "/v1/project/project-id": srv.project_id,
            "/v1/project/numeric-project-id": srv.project_number,
            "/v1/instance/zone": f"projects/{srv.project_number}/zones/us-central1-a",
            "/v1/instance/hostname": "mlpack-test.us-central1-a.c.internal",
            "/v1/instance/id": "1234567890123456789",
        }
        if path not in texts:
            raise HttpError(404, b"Not Found\n", TEXT_TYPE, flavor_header)
        self.respond(200, texts[path].encode(), "application/text", flavor_header)

    # -- test control API --

    def control(self, raw_path):
        srv = self.server
        if raw_path == "/_test/faults":
            if self.command == "POST":
                try:
                    srv.faults.add(json.loads(self.body.read_all() or b"null"))
                except ValueError as e:
                    raise text_error(400, f"bad fault rule: {e}") from None
            elif self.command == "DELETE":
                srv.faults.clear()
            elif self.command != "GET":
                raise text_error(405, "GET, POST or DELETE")
            return self.respond_json(srv.faults.snapshot())
        if raw_path == "/_test/log" and self.command == "GET":
            with srv.log.lock:
                text = "".join(line + "\n" for line in srv.log.lines)
            return self.respond(200, text.encode(), TEXT_TYPE)
        if raw_path == "/_test/stats" and self.command == "GET":
            open_sessions = sum(1 for s in srv.store.sessions() if s["state"] == "open")
            with srv.stats_lock:
                stats = dict(srv.stats)
            stats.update({"tokens_issued": sum(srv.tokens.by_grant.values()),
                          "tokens_by_grant": dict(srv.tokens.by_grant),
                          "faults_fired": srv.faults.fired, "open_sessions": open_sessions})
            return self.respond_json(stats)
        if raw_path == "/_test/expire-tokens" and self.command == "POST":
            srv.tokens.expire_all()
            return self.respond_json({"expired": True})
        raise text_error(404, "unknown control endpoint")


class _Scanner:
    """Reads a Body up to delimiters, streaming what comes before them."""

    def __init__(self, body):
        self.body = body
        self.buf = bytearray()

    def _fill(self):
        piece = self.body.read(PIECE)
        if not piece:
            raise invalid("multipart upload: the body ended early")
        self.buf += piece

    def take(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def part_head(self):
        """A part's header lines (b"" if it has none), up to the blank line."""
        while len(self.buf) < 2:
            self._fill()
        if self.buf[:2] == b"\r\n":
            del self.buf[:2]
            return b""
        return bytes(self.until(b"\r\n\r\n", bytearray(), 16384))

    def until(self, marker, sink, limit):
        """Bytes before marker go to sink (a bytearray, a file or None);
        the marker is consumed. Returns sink."""
        seen = 0
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                part, rest = self.buf[:i], self.buf[i + len(marker):]
            else:
                keep = len(marker) - 1
                part, rest = self.buf[:max(0, len(self.buf) - keep)], self.buf[max(0, len(self.buf) - keep):]
            seen += len(part)
            if limit is not None and seen > limit:
                raise invalid("multipart upload: a part is too large")
            if sink is not None and part:
                if isinstance(sink, bytearray):
                    sink += part
                else:
                    sink.write(part)
            self.buf = bytearray(rest)
            if i >= 0:
                return sink
            self._fill()


def verify_rs256(public_key_path, data, signature):
    with tempfile.TemporaryDirectory(prefix="gcs-jwt-") as d:
        dp, sp = os.path.join(d, "data"), os.path.join(d, "sig")
        with open(dp, "wb") as f:
            f.write(data)
        with open(sp, "wb") as f:
            f.write(signature)
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", public_key_path, "-signature", sp, dp],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return r.returncode == 0 and b"Verified OK" in r.stdout


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


# --- the `serve` command ------------------------------------------------------------

def serve(args):
    store = Store(args.root)
    for b in args.bucket:
        store.make_bucket(b)
    srv = Server(("127.0.0.1", args.port), Handler)
    port = srv.server_address[1]
    srv.store = store
    srv.log = Log(args.log)
    srv.faults = Faults()
    srv.tokens = Tokens(args.static_token, args.denied_token, args.token_lifetime, args.token_file)
    srv.no_auth = args.no_auth
    srv.public_buckets = set(args.public_bucket)
    srv.sa_email = args.service_account_email
    srv.sa_public_key = args.service_account_public_key
    srv.sa_key_id = args.service_account_key_id
    srv.token_uri = args.token_uri or f"http://127.0.0.1:{port}/token"
    srv.project_id = args.project_id
    srv.project_number = args.project_number
    srv.unaligned = args.unaligned_chunks
    srv.stats = {"requests": 0}
    srv.stats_lock = threading.Lock()
    srv.conn_lock = threading.Lock()
    srv.conn_serial = 0
    srv.sessions_lock = threading.Lock()
    srv.session_locks = {}
    srv.md5_cache = {}
    srv.stopping = threading.Event()
    _fold_tables()  # build the CRC tables before the first request

    def on_signal(signum, frame):
        srv.stopping.set()
        if srv.log.file is not None:
            with contextlib.suppress(Exception):
                srv.log.file.flush()
        sys.stdout.flush()
        os._exit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.port_file:
        tmp = f"{args.port_file}.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(port, flush=True)
    srv.serve_forever(poll_interval=0.5)


# --- the `store` command ------------------------------------------------------------

def store_command(args):
    store = Store(args.root)
    cmd, rest = args.command, args.args

    def need(n, usage):
        if len(rest) != n:
            sys.exit(f"usage: store {cmd} {usage}")

    out = sys.stdout
    if cmd == "mkbucket":
        need(1, "BUCKET")
        store.make_bucket(rest[0])
    elif cmd == "keys":
        need(2, "BUCKET PREFIX")
        bucket, prefix = rest
        names = [m["name"][len(prefix):] for m in store.list(bucket) if m["name"].startswith(prefix)]
        out.write("".join(n + "\n" for n in sorted(names, key=lambda n: n.encode("utf-8"))))
    elif cmd == "state":
        need(2, "BUCKET PREFIX")
        bucket, prefix = rest
        lines = [f"{m['generation']} {m['metageneration']} {base64.b64decode(m['md5Hash']).hex()} "
                 f"{m['name'][len(prefix):]}" for m in store.list(bucket) if m["name"].startswith(prefix)]
        out.write("".join(line + "\n" for line in lines))
    elif cmd == "cat":
        need(2, "BUCKET NAME")
        meta, f = store.open(*rest)
        if meta is None:
            sys.stderr.write(f"gcs store cat: no object {rest[1]} in {rest[0]}\n")
            sys.exit(1)
        with f:
            shutil.copyfileobj(f, sys.stdout.buffer, PIECE)
    elif cmd == "put":
        need(3, "BUCKET NAME FILE")
        bucket, name, src = rest
        validate_object_name(name)
        tmp = store.tmp_path()
        try:
            shutil.copyfile(src, tmp)
            size = os.path.getsize(tmp)
            crc, md5 = Crc32c(), hashlib.md5()
            hash_file(tmp, 0, size, crc, md5)
            store.commit(bucket, name, tmp, size, base64.b64encode(md5.digest()).decode(), crc.b64(),
                         {"contentType": "application/octet-stream"}, {})
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    elif cmd == "delete":
        need(2, "BUCKET NAME")
        try:
            store.delete(rest[0], rest[1], {})
        except HttpError as e:
            if e.status == 404:
                sys.stderr.write(f"gcs store delete: no object {rest[1]} in {rest[0]}\n")
                sys.exit(1)
            raise
    elif cmd == "sessions":
        if len(rest) not in (1, 2):
            sys.exit("usage: store sessions BUCKET [PREFIX]")
        prefix = rest[1] if len(rest) == 2 else ""
        print(sum(1 for s in store.sessions() if s["state"] == "open" and s["bucket"] == rest[0]
                  and s["name"].startswith(prefix)))
    else:
        sys.exit(f"unknown store command {cmd}")


# --- the `jwt` command --------------------------------------------------------------

def jwt_command(args):
    with open(args.sa_file, encoding="utf-8") as f:
        sa = json.load(f)
    now = int(time.time()) + args.iat_offset
    header = {"alg": args.alg, "typ": "JWT", "kid": sa["private_key_id"]}
    claims = {"iss": sa["client_email"], "scope": args.scope,
              "aud": args.aud or sa["token_uri"], "iat": now, "exp": now + args.lifetime}
    if args.sub:
        claims["sub"] = args.sub
    signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode()))
    with tempfile.TemporaryDirectory(prefix="gcs-jwt-") as d:
        key = os.path.join(d, "key.pem")
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(sa["private_key"])
        r = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if r.returncode != 0:
            sys.exit(f"openssl dgst -sign failed: {r.stderr.decode(errors='replace').strip()}")
    print(signing_input + "." + b64url(r.stdout))


def main():
    p = argparse.ArgumentParser(description="A strict GCS JSON API server for tests; see the top "
                                "of this file.")
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve", help="run the server")
    s.add_argument("--root", required=True, help="the on-disk store")
    s.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    s.add_argument("--port-file", help="where to write the port once listening")
    s.add_argument("--log", help="request log file (one line per request)")
    s.add_argument("--bucket", action="append", default=[], help="create this bucket (repeatable)")
    s.add_argument("--no-auth", action="store_true", help="accept requests without credentials")
    s.add_argument("--public-bucket", action="append", default=[],
                   help="anonymous reads allowed on this bucket (repeatable)")
    s.add_argument("--static-token", action="append", default=[],
                   help="a bearer token always valid, with full access (repeatable)")
    s.add_argument("--denied-token", action="append", default=[],
                   help="a bearer token that authenticates but may do nothing (repeatable)")
    s.add_argument("--token-lifetime", type=int, default=3599, help="seconds an issued token lives")
    s.add_argument("--token-file", help="issued tokens are kept here (they survive a restart)")
    s.add_argument("--service-account-email", help="the test service account (JWT iss)")
    s.add_argument("--service-account-public-key", help="its public key, PEM (JWT signatures)")
    s.add_argument("--service-account-key-id", help="its private_key_id (JWT header kid)")
    s.add_argument("--token-uri", help="the JWT aud required (default http://127.0.0.1:PORT/token)")
    s.add_argument("--project-id", default="mlpack-test-project")
    s.add_argument("--project-number", default="123456789012")
    s.add_argument("--unaligned-chunks", choices=("reject", "truncate"), default="reject",
                   help="a non-final resumable chunk that is not a multiple of 256 KiB: 400 "
                        "(reject, the documented rule) or keep its aligned prefix (truncate)")
    st = sub.add_parser("store", help="read or change the on-disk store")
    st.add_argument("--root", required=True)
    st.add_argument("command", choices=("mkbucket", "keys", "state", "cat", "put", "delete", "sessions"))
    st.add_argument("args", nargs="*")
    j = sub.add_parser("jwt", help="print a JWT assertion signed with a service-account file's key")
    j.add_argument("--sa-file", required=True)
    j.add_argument("--scope", default=SCOPE_PREFIX + "devstorage.read_write")
    j.add_argument("--aud", help="default: the file's token_uri")
    j.add_argument("--sub")
    j.add_argument("--iat-offset", type=int, default=0, help="seconds added to now for iat")
    j.add_argument("--lifetime", type=int, default=3600, help="exp - iat")
    j.add_argument("--alg", default="RS256", help="the header's alg (the signature is RS256 anyway)")
    args = p.parse_args()
    if args.mode == "serve":
        serve(args)
    elif args.mode == "store":
        try:
            store_command(args)
        except HttpError as e:
            sys.stderr.write(f"gcs store {args.command}: {e.body.decode(errors='replace')}\n")
            sys.exit(2)
    else:
        jwt_command(args)


if __name__ == "__main__":
    main()
