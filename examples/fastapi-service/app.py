"""A FastAPI service that gets its model through mlpack at start-up.

    MODEL_REF=iris@production MLPACK_REMOTE=origin python3 -m uvicorn app:app

At start-up, before it listens:
  1. with MLPACK_REMOTE set (a remote's name or a URL), `mlpack pull` fetches
     MODEL_REF from it; the signature is checked against the trusted keys
     and every blob against its digest before the local ref moves;
  2. `mlpack inspect --json` resolves MODEL_REF to one manifest digest, which
     every later step uses, so a stage moved meanwhile cannot mix versions;
  3. `mlpack verify` checks the signature and every file in the store again,
     `mlpack path` gives the model file, whose own SHA-256 is checked against
     the manifest right before it is loaded with joblib;
  4. the request body's type is built from the manifest's input_schema.
Any failure stops start-up with one line on stderr and exit code 1: the
service never comes up without a verified model.

Environment: MODEL_REF (default iris@production), MLPACK_REMOTE (optional),
MLPACK_BIN (default: mlpack on PATH), MLPACK_DIR (the repository; mlpack
reads it), XDG_CONFIG_HOME (where mlpack keeps the trusted keys).

Endpoints: POST /predict with one row, fields named as in the input_schema,
returns the class index and name (names from the manifest's
metadata.target_names, when there); GET /health says what is served.
"""
import hashlib
import json
import math
import os
import subprocess
import sys
from typing import Any, Dict, List

import joblib
import pydantic
from fastapi import FastAPI

MODEL_REF = os.environ.get("MODEL_REF") or "iris@production"
MLPACK_BIN = os.environ.get("MLPACK_BIN") or "mlpack"
MLPACK_REMOTE = os.environ.get("MLPACK_REMOTE") or ""


class StartupError(Exception):
    pass


def log(message: str) -> None:
    print(f"fastapi-service: {message}", file=sys.stderr, flush=True)


def mlpack(*args: str) -> str:
    """Runs mlpack; its stdout, or StartupError with mlpack's error line."""
    command = [MLPACK_BIN, *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as e:
        raise StartupError(f"cannot run {MLPACK_BIN}: {e.strerror} "
                           "(install mlpack, or set MLPACK_BIN to its path)") from None
    for line in done.stderr.splitlines():
        if line.strip() and not line.startswith("mlpack: error: "):
            log(line)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if line.strip()]
        reason = errors[-1] if errors else "no message"
        raise StartupError(f"'mlpack {' '.join(args)}' exited {done.returncode}: {reason}")
    return done.stdout


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# Request field types, by the type names an input_schema uses. Python's
# json module reads numbers as int or float; strings and booleans are not
# numbers here (pydantic's float would turn "5.1" into 5.1), so a client
# that sends the wrong type gets 422 instead of a silently coerced guess.
PYDANTIC_V1 = pydantic.VERSION.startswith("1.")
if PYDANTIC_V1:
    class Number(float):
        """An int or float JSON number, finite; never a string or a boolean."""

        @classmethod
        def __get_validators__(cls):
            yield cls.validate

        @classmethod
        def validate(cls, value: Any) -> float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError("value is not a number")
            if not math.isfinite(value):
                raise ValueError("value is not a finite number")
            return float(value)

    def row_type(fields: Dict[str, Any]) -> type:
        class Config:
            extra = pydantic.Extra.forbid
        return pydantic.create_model("Row", __config__=Config, **fields)
else:  # pydantic 2 (Debian 12 ships 1.10; this branch is not exercised by the tests)
    Number = pydantic.StrictFloat  # strict floats take ints, refuse strings

    def row_type(fields: Dict[str, Any]) -> type:
        return pydantic.create_model("Row", __config__=pydantic.ConfigDict(extra="forbid"),
                                     **fields)

FIELD_TYPES = {
    "float": Number, "double": Number, "float32": Number, "float64": Number, "number": Number,
    "int": pydantic.StrictInt, "integer": pydantic.StrictInt, "int32": pydantic.StrictInt,
    "int64": pydantic.StrictInt,
    "str": pydantic.StrictStr, "string": pydantic.StrictStr,
    "bool": pydantic.StrictBool, "boolean": pydantic.StrictBool,
}


def load() -> Dict[str, Any]:
    if MLPACK_REMOTE:
        log(f"pulling {MODEL_REF} from {MLPACK_REMOTE}")
        for line in mlpack("pull", "-r", MLPACK_REMOTE, MODEL_REF).splitlines():
            log(line)
    try:
        info = json.loads(mlpack("inspect", MODEL_REF, "--json"))
        digest = info["digest"]
        manifest = info["manifest"]
    except (ValueError, KeyError) as e:
        raise StartupError(f"'mlpack inspect {MODEL_REF} --json' gave an unexpected document: "
                           f"{e}") from None
    # From here on, the one artifact MODEL_REF named just now.
    pinned = digest if info.get("source") == "store" else MODEL_REF
    mlpack("verify", pinned)

    models = [f for f in manifest.get("files", []) if f.get("role") == "model"]
    if len(models) != 1:
        raise StartupError(f"{MODEL_REF} has {len(models)} files with role model; "
                           "this service loads exactly one joblib file")
    # `mlpack path` hands out a copy unpacked into .mlpack/cache, which it
    # checks by size only, and `mlpack verify` checks the store, not that
    # copy: the bytes joblib will load are hashed here.
    path = mlpack("path", pinned, "--role", "model").strip()
    if sha256_file(path) != models[0]["sha256"]:
        raise StartupError(f"{path} does not match the sha256 in the manifest of {MODEL_REF}: "
                           "the unpacked copy changed since mlpack wrote it; remove the folder "
                           f".mlpack/cache/{digest.removeprefix('sha256:')} and start again")

    schema = (manifest.get("preprocessing") or {}).get("input_schema")
    if not schema:
        raise StartupError(f"{MODEL_REF} has no preprocessing.input_schema: "
                           "the service cannot know what a row holds")
    fields: Dict[str, Any] = {}
    for column in schema:
        name, kind = column.get("name"), str(column.get("type", "float")).lower()
        if kind not in FIELD_TYPES:
            raise StartupError(f"input_schema column {name!r} of {MODEL_REF} has the type "
                               f"{kind!r}, which this service does not know "
                               f"(it knows {', '.join(sorted(FIELD_TYPES))})")
        fields[name] = (FIELD_TYPES[kind], ...)

    try:
        model = joblib.load(path)
    except Exception as e:  # a pickle can fail in many ways; all of them stop start-up
        raise StartupError(f"cannot load {path} with joblib: {type(e).__name__}: {e}") from None
    if not hasattr(model, "predict"):
        raise StartupError(f"the model of {MODEL_REF} ({type(model).__name__}) has no predict()")

    names = (manifest.get("metadata") or {}).get("target_names") or []
    log(f"serving {MODEL_REF} = {manifest.get('name')}:{manifest.get('version')} {digest}")
    return {
        "model": model,
        "row_type": row_type(fields),
        "columns": [c["name"] for c in schema],
        "target_names": [str(n) for n in names],
        "health": {
            "status": "ok",
            "ref": MODEL_REF,
            "name": manifest.get("name"),
            "version": manifest.get("version"),
            "digest": digest,
            "signature_key_id": (info.get("signature") or {}).get("key_id"),
            "inputs": [{"name": c["name"], "type": c.get("type", "float")} for c in schema],
        },
    }


try:
    SERVED = load()
except StartupError as error:
    # sys.exit with a message: one line on stderr, exit code 1, and uvicorn
    # never binds its port.
    sys.exit(f"fastapi-service: cannot serve {MODEL_REF}: {error}; not starting without a "
             "verified model")

Row = SERVED["row_type"]
app = FastAPI(title="mlpack model service",
              description=f"Serves {SERVED['health']['name']}:{SERVED['health']['version']}")


@app.get("/health")
def health() -> Dict[str, Any]:
    return SERVED["health"]


@app.post("/predict")
def predict(row: Row) -> Dict[str, Any]:  # type: ignore[valid-type]
    values = row.dict() if PYDANTIC_V1 else row.model_dump()
    features: List[List[Any]] = [[values[c] for c in SERVED["columns"]]]
    index = SERVED["model"].predict(features)[0]
    try:
        index = int(index)
    except (TypeError, ValueError):
        index = str(index)
    names = SERVED["target_names"]
    name = names[index] if isinstance(index, int) and 0 <= index < len(names) else str(index)
    return {"class_index": index, "class_name": name,
            "model": {"ref": MODEL_REF, "digest": SERVED["health"]["digest"]}}
