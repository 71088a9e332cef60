#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/TARGET/): small valid inputs
and near misses, so that fuzzing starts from the formats' structure. The seed of fuzz_checkpoint
and fuzz_checkpoint_file is a real toy checkpoint (format 2), written by `proxflow-lab train`
(pass its path as the first argument)."""
import gzip, json, os, shutil, struct, sys

here = os.path.dirname(os.path.abspath(__file__))
def put(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

# Configs as the CLI sends them (protobuf JSON names).
put("fuzz_config_json", "preset", json.dumps({"preset": "toy-2d"}))
put("fuzz_config_json", "mnist", json.dumps({
    "preset": "mnist", "iterations": 10, "batchSize": 64,
    "dataset": {"mnistDir": "/data/mnist", "mnistLabels": [1, 7]},
    "flow": {"dt": 0.5, "lambda": 0.05}, "critic": {"learningRate": 1e-4}}))
put("fuzz_config_json", "manifold", json.dumps({
    "preset": "manifold-12d", "seed": "42",
    "dataset": {"kind": "DATASET_KIND_TOY", "toy": "TOY_SHAPE_PINWHEEL", "dimension": 12},
    "generator": {"network": {"depth": 5, "width": 48, "activation": "ACTIVATION_TANH"}},
    "critic": {"lipschitzMode": "LIPSCHITZ_MODE_NONE"}}))
put("fuzz_config_json", "bad-range", json.dumps({"preset": "toy-2d", "batchSize": -3}))

def idx(dims, payload):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload

images = idx([2, 3, 3], bytes(range(18)))
labels = idx([2], bytes([3, 7]))
put("fuzz_idx", "images", images)
put("fuzz_idx", "labels", labels)
put("fuzz_idx", "images.gz", gzip.compress(images, mtime=0))
put("fuzz_idx", "truncated", images[:-5])
put("fuzz_data_file", "idx", images)
put("fuzz_data_file", "float-array",
    b"PXFA" + struct.pack("<Iqq", 1, 2, 3) + struct.pack("<6f", 0, 1, -2.5, 3, 4, 5))
put("fuzz_data_file", "float-array-nan",
    b"PXFA" + struct.pack("<Iqq", 1, 1, 2) + struct.pack("<2f", 1, float("nan")))

if len(sys.argv) > 1:
    for target in ("fuzz_checkpoint", "fuzz_checkpoint_file"):
        d = os.path.join(here, "corpus", target)
        os.makedirs(d, exist_ok=True)
        shutil.copy(sys.argv[1], os.path.join(d, "toy-2d"))
