#!/usr/bin/env python3
"""faiss's Kmeans on the token matrices `spt bench` wrote (one tensor per layer), as close to the
engine's settings as faiss allows: every token used (no subsampling), 100 iterations (faiss has
no tolerance stop), one init, repeated for `--seeds` seeds. faiss seeds with random points, not
k-means++. Prints JSON with the clustering seconds of one pass over all layers and the summed
inertia over all tokens, both averaged over the seeds. Needs numpy, faiss-cpu and safetensors."""
import argparse, json, time
import faiss
import numpy as np
from safetensors.numpy import load_file

p = argparse.ArgumentParser()
p.add_argument("file"); p.add_argument("--k", type=int, default=10); p.add_argument("--threads", type=int, default=2)
p.add_argument("--seeds", type=int, default=3)
a = p.parse_args()
faiss.omp_set_num_threads(a.threads)
layers = {n: np.ascontiguousarray(x, dtype=np.float32) for n, x in load_file(a.file).items()}
seconds = inertia = 0.0
for seed in range(a.seeds):
    for name in sorted(layers):
        x = layers[name]
        km = faiss.Kmeans(x.shape[1], a.k, niter=100, nredo=1, seed=seed, max_points_per_centroid=x.shape[0], verbose=False)
        t = time.perf_counter()
        km.train(x)
        seconds += time.perf_counter() - t
        d, _ = km.index.search(x, 1)
        inertia += float(d.sum())
print(json.dumps({"seconds": seconds / a.seeds, "inertia": inertia / a.seeds}))
