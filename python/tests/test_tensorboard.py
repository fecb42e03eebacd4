"""TensorBoard event files between this project and the real thing: what PyTorch's
SummaryWriter and TensorBoard's own writer (TF2-style tensor scalars) write, `spt export` reads
with identical steps and values; what `spt export --format tensorboard` writes, TensorBoard's
EventAccumulator reads with the run log's values. Needs torch, tensorboard and the `spt` binary."""
import csv
import glob
import os
import subprocess
import tempfile
import time
import unittest

from engine import REPO, SPT

try:
    import numpy as np
    import tensorboard  # noqa: F401
    from torch.utils.tensorboard import SummaryWriter
    HAVE_TB = True
except ImportError:
    HAVE_TB = False


def f32(x):
    return float(np.float32(x))


@unittest.skipUnless(HAVE_TB and os.path.exists(SPT), "needs torch, tensorboard and the spt binary")
class TensorBoardTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def spt_csv(self, logs):
        """`spt export LOGS` (tidy) → {(run, metric, block, step): value}."""
        out = os.path.join(self.tmp.name, "out.csv")
        subprocess.run([SPT, "export", logs, "--out", out, "--smoothing", "0"], check=True, capture_output=True)
        with open(out, newline="") as f:
            return {(r["run"], r["metric"], r["block"], int(r["step"])): float(r["value"]) for r in csv.DictReader(f)}

    def test_what_summary_writer_writes_spt_reads(self):
        root = os.path.join(self.tmp.name, "tb")
        w = SummaryWriter(os.path.join(root, "run_a"))
        w.add_text("strategy", "kmeans", 0)
        expected = {}
        for step in range(1, 21):
            loss, lr = 2.0 / step + 0.001 * step, 1e-3 * (1 - step / 40)
            w.add_scalar("train/loss", loss, step)
            w.add_scalar("train/lr", lr, step)
            w.add_scalar("gpu/memory_gb", 3.5 + step / 7, step)
            expected[("train/loss", "", step)] = f32(loss)
            expected[("train/lr", "", step)] = f32(lr)
            expected[("gpu/memory_gb", "", step)] = f32(3.5 + step / 7)
            if step % 5 == 0:
                w.add_scalar("val/accuracy", 0.5 + step / 100, step)
                expected[("val/acc", "", step)] = f32(0.5 + step / 100)
                for b in range(3):
                    w.add_scalar(f"nmi/block_{b}", 0.01 * (b + 1) * step, step)
                    expected[("nmi", str(b), step)] = f32(0.01 * (b + 1) * step)
        w.close()
        got = self.spt_csv(root)
        ours = {(m, b, s): v for (run, m, b, s), v in got.items() if m in {k[0] for k in expected}}
        self.assertEqual(set(ours), set(expected))
        for k, v in expected.items():
            self.assertEqual(ours[k], v, k)
        print(f"SummaryWriter → spt: {len(expected)} values at identical steps, identical")

    def test_tensorboards_own_writer_with_tensor_scalars(self):
        """TF2's form: scalars as tensors (float_val, a double, tensor_content), written by
        TensorBoard's EventFileWriter."""
        from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2
        from tensorboard.plugins.scalar import summary_v2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        d = os.path.join(self.tmp.name, "tf2", "run_b")
        w = EventFileWriter(d)
        expected = {}
        for step in range(10):
            loss, acc = 1.0 / (step + 1), 0.1 * step
            s = summary_v2.scalar_pb("loss", loss)
            s.value.add(tag="val/accuracy", tensor=tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, double_val=[acc]))
            content = np.array([step * 0.5], dtype=np.float32).tobytes()
            s.value.add(tag="throughput", tensor=tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_content=content))
            w.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=s))
            expected[("train/loss", step)] = f32(loss)
            expected[("val/acc", step)] = acc
            expected[("throughput", step)] = f32(step * 0.5)
        w.close()
        got = {(m, s): v for (_, m, _, s), v in self.spt_csv(os.path.dirname(d)).items()}
        for k, v in expected.items():
            self.assertEqual(got[k], v, k)
        print(f"TensorBoard EventFileWriter (tensor scalars) → spt: {len(expected)} values identical")

    def test_what_spt_writes_tensorboard_reads(self):
        from spt_torch import read
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        logs = sorted(glob.glob(os.path.join(REPO, "sample-runs", "fashion-mnist-mae-tiny", "**", "*.jsonl"), recursive=True))[:2]
        self.assertTrue(logs)
        out = os.path.join(self.tmp.name, "export")
        checked = 0
        for i, log in enumerate(logs):
            dst = os.path.join(out, str(i))
            subprocess.run([SPT, "export", log, "--format", "tensorboard", "--out", dst], check=True, capture_output=True)
            records, _ = read(log)
            (run,) = os.listdir(dst)
            acc = EventAccumulator(os.path.join(dst, run), size_guidance={"scalars": 0, "tensors": 0})
            acc.Reload()
            train = [r for r in records if r["kind"] == "train"]
            events = acc.Scalars("train/loss")
            self.assertEqual([e.step for e in events], [r["step"] for r in train])
            self.assertEqual([e.value for e in events], [f32(r["loss"]) for r in train])
            for r in (r for r in records if r["kind"] == "eval"):
                e = next(e for e in acc.Scalars(f"{r['split']}/accuracy") if e.step == r["step"])
                self.assertEqual(e.value, f32(r["accuracy"]))
            nmi = [r for r in records if r["kind"] == "nmi"]
            for b in range(len(nmi[0]["values"]) if nmi else 0):
                self.assertEqual([e.value for e in acc.Scalars(f"nmi/block_{b}")], [f32(r["values"][b]) for r in nmi])
            strategy = acc.Tensors("strategy")[0]
            self.assertEqual(strategy.tensor_proto.string_val[0].decode(), records[0]["strategy"])
            checked += len(train)
        print(f"spt → EventAccumulator: {len(logs)} runs, {checked} train steps and every eval and NMI value identical")


if __name__ == "__main__":
    unittest.main()
