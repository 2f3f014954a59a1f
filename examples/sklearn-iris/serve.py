#!/usr/bin/python3
"""Loads the packed model the way a service does at start-up and predicts.

    ./serve.py "$(mlpack path iris:v1 --role model)" 5.1 3.5 1.4 0.2
"""
import sys

import joblib

model = joblib.load(sys.argv[1])
features = [[float(v) for v in sys.argv[2:6]]]
print(int(model.predict(features)[0]))
