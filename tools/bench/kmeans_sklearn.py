#!/usr/bin/env python3
"""scikit-learn's KMeans on the token matrices `spt bench` wrote (one tensor per layer), with the
engine's settings: k-means++ init, one init, up to 100 iterations, tol 1e-4. Prints JSON with the
total clustering seconds and the summed inertia. Needs numpy, scikit-learn and safetensors."""
import argparse, json, time
from safetensors.numpy import load_file
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

p = argparse.ArgumentParser()
p.add_argument("file"); p.add_argument("--k", type=int, default=10); p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
layers = load_file(a.file)
seconds = inertia = 0.0
with threadpool_limits(a.threads):
    for name in sorted(layers):
        t = time.perf_counter()
        km = KMeans(n_clusters=a.k, init="k-means++", n_init=1, max_iter=100, tol=1e-4, random_state=0).fit(layers[name])
        seconds += time.perf_counter() - t
        inertia += float(km.inertia_)
print(json.dumps({"seconds": seconds, "inertia": inertia}))
