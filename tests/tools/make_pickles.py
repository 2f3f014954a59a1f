#!/usr/bin/python3
"""Writes the files tests/cli/test_scan.sh scans, into the folder argv[1].

Real pickles from Python's own pickle module and Debian's scikit-learn and
joblib; payloads only ever *built* here, never loaded.
"""
import bz2
import gzip
import io
import lzma
import os
import pickle
import struct
import sys
import zipfile
import zlib

import joblib
import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


class Payload:
    """Loading this runs a shell command: the classic __reduce__ payload."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


# A real scikit-learn pipeline: must scan clean, plain and compressed.
x, y = load_iris(return_X_y=True)
pipeline = Pipeline([("scale", StandardScaler()), ("classify", LogisticRegression(max_iter=500))])
pipeline.fit(x, y)
joblib.dump(pipeline, os.path.join(out, "pipeline.joblib"))
for method in ("zlib", "gzip", "bz2", "xz", "lzma"):
    joblib.dump(pipeline, os.path.join(out, f"pipeline-{method}.joblib"), compress=(method, 3))
write("pipeline.pkl", pickle.dumps(pipeline, protocol=4))
# An object array: joblib pickles it inside its own stream.
joblib.dump({"labels": np.array(["a", None, 3], dtype=object), "w": np.arange(5.0)},
            os.path.join(out, "objects.joblib"))

# The payload at each protocol, as a plain pickle and inside containers.
for protocol in (0, 2, 4, 5):
    write(f"payload-p{protocol}.pkl", pickle.dumps(Payload(), protocol=protocol))
joblib.dump({"model": Payload()}, os.path.join(out, "payload.joblib"))
for method in ("zlib", "gzip", "bz2", "xz"):
    joblib.dump({"model": Payload()}, os.path.join(out, f"payload-{method}.joblib"),
                compress=(method, 3))

# STACK_GLOBAL whose module and name come from the memo, not the stack top:
# 'os' and 'system' are memoized, popped, and fetched back with BINGET.
stack_global = (b"\x80\x04"
                b"\x8c\x02os\x94"          # SHORT_BINUNICODE 'os', MEMOIZE (0)
                b"\x8c\x06system\x94"      # SHORT_BINUNICODE 'system', MEMOIZE (1)
                b"00"                      # POP, POP
                b"h\x00h\x01"              # BINGET 0, BINGET 1
                b"\x93"                    # STACK_GLOBAL -> os.system
                b"\x8c\x0aecho pwned\x85R.")
write("memo-stack-global.pkl", stack_global)
# STACK_GLOBAL on operands that are not strings: cannot be resolved.
write("unresolvable.pkl", b"\x80\x04K\x01K\x02\x93)R.")

# A PyTorch-style zip checkpoint with a malicious data.pkl.
with zipfile.ZipFile(os.path.join(out, "checkpoint.pt"), "w") as z:
    z.writestr("archive/data.pkl", pickle.dumps({"state": Payload()}, protocol=2))
    z.writestr("archive/version", "3\n")
    z.writestr("archive/data/0", b"\0" * 16)
# And a clean one.
with zipfile.ZipFile(os.path.join(out, "clean.pt"), "w") as z:
    z.writestr("archive/data.pkl", pickle.dumps({"w": [1.0, 2.0]}, protocol=2))
    z.writestr("archive/version", "3\n")

# numpy: an object array with a payload inside, alone and in an .npz.
buf = io.BytesIO()
np.save(buf, np.array([Payload()], dtype=object), allow_pickle=True)
write("payload.npy", buf.getvalue())
np.savez(os.path.join(out, "payload.npz"), a=np.array([Payload()], dtype=object), b=np.arange(3))
np.savez(os.path.join(out, "clean.npz"), a=np.arange(3), b=np.eye(2))

# Globals on neither list.
write("unknown.pkl", b"\x80\x02cmymodule\nMyModel\nq\x00)\x81q\x01.")

# Malformed streams: truncated, a bad opcode, data after STOP (a hidden
# second pickle), a protocol from the future.
good = pickle.dumps({"a": 1}, protocol=2)
write("truncated.pkl", good[:-3])
write("bad-opcode.pkl", b"\x80\x02\xff.")
write("trailing.pkl", good + pickle.dumps(Payload(), protocol=2))
write("future.pkl", b"\x80\x09N.")
