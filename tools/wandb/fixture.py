"""Writes Tests/SPTRunsTests/Fixtures/wandb/: a W&B offline run file written by the real `wandb`
package, and expected.json — its history rows, config and exit code as W&B's own protobuf
classes decode them (run by hand: `$(bash tools/setup-python.sh) tools/wandb/fixture.py`).
The run covers what the reader maps: a config with `strategy`, training metrics every step,
evaluation and per-block NMI every tenth step, a strategy change, a history row larger than
a 32 KiB block (a record in several pieces), a summary value never logged, and a clean exit."""
import glob
import json
import os
import shutil
import struct
import sys
import tempfile
import zlib

import wandb
from wandb.proto import wandb_internal_pb2 as pb

out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SPTRunsTests", "Fixtures", "wandb")


def records(path):
    """Every record payload of a run file, by W&B's framing (header, 32 KiB blocks, CRC-32)."""
    data = open(path, "rb").read()
    assert data[:7] == b":W&B" + struct.pack("<HB", 0xBEE1, 0)
    i, pieces = 7, b""
    while i < len(data):
        if 32768 - i % 32768 < 7:
            i += 32768 - i % 32768
            continue
        crc, n, kind = struct.unpack("<IHB", data[i:i + 7])
        body = data[i + 7:i + 7 + n]
        assert crc == zlib.crc32(bytes([kind]) + body)
        i += 7 + n
        pieces = body if kind in (1, 2) else pieces + body
        if kind in (1, 4):
            yield pieces


def main():
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WANDB_SILENT"] = "true"
        run = wandb.init(project="spt-fixture", name="fixture-run", id="fixture", mode="offline", dir=tmp,
                         config={"strategy": "kmeans", "task": "fashion-mnist", "lr": 0.03, "prompts": 10,
                                 "schedule": {"warmup": 5, "decay": "cosine"}})
        for step in range(30):
            row = {"train/loss": 2.3 / (1 + step), "lr": 0.03 * (1 - step / 30)}
            if step % 10 == 9:
                row["val/accuracy"] = 0.5 + step / 100
                row.update({f"nmi/block_{b}": 0.01 * (b + 1) * step for b in range(3)})
            if step == 15:
                row["strategy"] = "mean-pool"
            if step == 20:
                row["note"] = "x" * 40000
            wandb.log(row, step=step)
        run.summary["best_val"] = 0.79
        run.finish()
        path = glob.glob(os.path.join(tmp, "wandb", "offline-run-*", "run-fixture.wandb"))[0]
        rows, config, exit_code = [], {}, None
        for payload in records(path):
            r = pb.Record()
            r.ParseFromString(payload)
            kind = r.WhichOneof("record_type")
            if kind == "history":
                rows.append({".".join(i.nested_key) or i.key: json.loads(i.value_json) for i in r.history.item
                             if not isinstance(json.loads(i.value_json), str) or len(i.value_json) < 100})
            elif kind == "run":
                config = {i.key: json.loads(i.value_json) for i in r.run.config.update if i.key != "_wandb"}
            elif kind == "exit":
                exit_code = r.exit.exit_code
        os.makedirs(out, exist_ok=True)
        shutil.copy(path, os.path.join(out, "run-fixture.wandb"))
        with open(os.path.join(out, "expected.json"), "w") as f:
            json.dump({"wandb": wandb.__version__, "config": config, "exit_code": exit_code, "history": rows}, f, indent=1)
            f.write("\n")
    print(f"wrote {out}: {len(rows)} history rows, wandb {wandb.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
