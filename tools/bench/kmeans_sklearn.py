#!/usr/bin/env python3
"""scikit-learn's KMeans on the token matrices `spt bench` wrote (one tensor per layer), with the
engine's settings: k-means++ init, one init, up to 100 iterations, tol 1e-4, repeated for
`--seeds` random states (the inertia of one seed varies by about ±1% between seeds). Prints JSON
with the clustering seconds of one pass over all layers and the summed inertia, both averaged
over the seeds. Needs numpy, scikit-learn and safetensors."""
import argparse, json, time
from safetensors.numpy import load_file
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

p = argparse.ArgumentParser()
p.add_argument("file"); p.add_argument("--k", type=int, default=10); p.add_argument("--threads", type=int, default=2)
p.add_argument("--seeds", type=int, default=3)
a = p.parse_args()
layers = load_file(a.file)
seconds = inertia = 0.0
with threadpool_limits(a.threads):
    for seed in range(a.seeds):
        for name in sorted(layers):
            t = time.perf_counter()
            km = KMeans(n_clusters=a.k, init="k-means++", n_init=1, max_iter=100, tol=1e-4, random_state=seed).fit(layers[name])
            seconds += time.perf_counter() - t
            inertia += float(km.inertia_)
print(json.dumps({"seconds": seconds / a.seeds, "inertia": inertia / a.seeds}))
