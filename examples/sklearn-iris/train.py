#!/usr/bin/python3
"""Trains the iris example: a scikit-learn Pipeline(StandardScaler, LogisticRegression).

Writes model.joblib, preprocessing.yaml (the steps the inputs go through),
params.yaml and metrics.json into the folder given as the first argument, so
`mlpack pack` has a real model and its real preprocessing to pack.
Run with Debian's /usr/bin/python3 (python3-sklearn).
"""
import json
import pathlib
import sys

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
C = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
out.mkdir(parents=True, exist_ok=True)

data = load_iris()
x_train, x_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.3, random_state=42, stratify=data.target)
pipeline = Pipeline([("scale", StandardScaler()),
                     ("classify", LogisticRegression(C=C, max_iter=500))])
pipeline.fit(x_train, y_train)
predicted = pipeline.predict(x_test)

joblib.dump(pipeline, out / "model.joblib")
scaler = pipeline.named_steps["scale"]
features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
with open(out / "preprocessing.yaml", "w") as f:
    f.write("# Inputs are standardised with the training set's mean and scale.\n")
    f.write("steps:\n  - standard_scaler:\n")
    for name, mean, scale in zip(features, scaler.mean_, scaler.scale_):
        f.write(f"      {name}: {{mean: {mean:.6f}, scale: {scale:.6f}}}\n")
with open(out / "params.yaml", "w") as f:
    f.write(f"C: {C}\nmax_iter: 500\ntest_size: 0.3\nrandom_state: 42\n")
metrics = {
    "accuracy": round(accuracy_score(y_test, predicted), 4),
    "f1_macro": round(f1_score(y_test, predicted, average="macro"), 4),
    "log_loss": round(log_loss(y_test, pipeline.predict_proba(x_test)), 4),
}
with open(out / "metrics.json", "w") as f:
    json.dump(metrics, f, indent=2)
    f.write("\n")
print(f"trained iris model with C={C}: {metrics}", file=sys.stderr)
