import json
import math
import os
import tempfile
import unittest

from spt_torch import RunLog, read
from spt_torch.control import ControlChannel, control_path, send


def full_log(path):
    """Every record kind with every optional field set (the Swift tests read this back)."""
    with RunLog(path, run="r", session="s", task="t", backbone="b", strategy="kmeans", prompts=3, epochs=2, batch=4,
                engine="e", deep=True, optimizer="sgd", lr=0.5, weight_decay=0.25, seed=7, threads=2, backbone_hash="h",
                variant="batch-windows", mode="prompt", pooling="mean", params={"split_seed": 3}) as log:
        log.train(step=1, epoch=0.5, time=1.5, loss=math.inf, lr=1e-3, grad_norm=math.nan, images_per_second=10)
        log.eval(step=2, epoch=1, time=2.5, split="val", loss=0.5, accuracy=0.75)
        log.nmi(step=3, epoch=1, time=3, values=[0.1, -math.inf], mode="attention", normalization="arithmetic")
        log.attention(step=3, epoch=1, time=3, cls=[0.25, math.nan], patches=[0.125, 0.5])
        log.projection(step=0, centre=[[0.5, -1], [2, 3]], axes=[[1, 0, 0, 1], [0.6, 0.8, -0.8, 0.6]], explained=[[0.5, 0.25], [0.75, 0.125]],
                       image="AAH/", image_width=3, image_height=1, image_channels=1)
        log.map(step=3, epoch=1, time=3, prompts=[[0.5, 1.5], [-2, 0]], patches=[[1, 2, 3, 4], [-1, -2, math.nan, 4]],
                nearest=[[0.25], [math.inf]], image_nearest=[[0, 0], [0, 0]], image_attention=[[100, 50], [25, 100]])
        log.init(step=0, strategy="kmeans", variant="batch-windows", seconds=1, gather_seconds=2, iterations=9, inertia=4.5, images=800,
                 cosine=[0.5, -0.25], effective_rank=[2.5, 3], nearest=[0.75, math.inf])
        log.segment(step=5, time=6, strategy="sample", variant="v", reason="key 5")
        log.event("error", step=6, time=7, message="disk full")
        log.event("checkpoint", step=7, time=8, message="a writer's own event")
        log.scalar(step=8, time=9, tag="gpu/memory_gb", value=11.5)


class RunLogTests(unittest.TestCase):
    def test_every_kind_round_trips(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "s", "r.jsonl")
            full_log(path)
            records, issues = read(path)
            self.assertEqual(issues, [])
            self.assertEqual([r["kind"] for r in records], ["header", "train", "eval", "nmi", "attention", "projection", "map", "init", "segment", "event", "event",
                                                           "scalar"])
            h = records[0]
            self.assertEqual((h["schema"], h["deep"], h["seed"], h["params"]), (1, True, 7, {"split_seed": "3"}))
            self.assertTrue(math.isinf(records[1]["loss"]) and math.isnan(records[1]["grad_norm"]))
            self.assertEqual(records[3]["values"][1], -math.inf)
            self.assertTrue(math.isnan(records[6]["patches"][1][2]) and records[6]["nearest"][1] == [math.inf])
            self.assertEqual((records[7]["cosine"], records[7]["effective_rank"], records[7]["nearest"]), ([0.5, -0.25], [2.5, 3], [0.75, math.inf]))
            with open(path) as f:
                text = f.read()
            self.assertTrue(text.startswith('{"kind":"header",'))
            self.assertIn('"loss":"Infinity"', text)

    def test_a_torn_last_line_is_skipped_and_reported(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "r.jsonl")
            full_log(path)
            with open(path, "ab") as f:
                f.write(b'{"kind":"train","step":9,"ep')
            records, issues = read(path)
            self.assertEqual(len(records), 12)
            self.assertEqual(len(issues), 1)

    def test_a_newer_schema_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "r.jsonl")
            with open(path, "w") as f:
                f.write(json.dumps({"kind": "header", "schema": 2}) + "\n")
            with self.assertRaises(ValueError):
                read(path)


class ControlTests(unittest.TestCase):
    def test_commands_are_taken_once_and_only_when_complete(self):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "kmeans.jsonl")
            self.assertEqual(control_path(log), os.path.join(d, "kmeans.control.jsonl"))
            channel = ControlChannel(log)
            self.assertEqual(channel.poll(), [])
            send(log, "switch", strategy="random")
            with open(control_path(log), "ab") as f:
                f.write(b'{"command":"pa')
            self.assertEqual(channel.poll(), [{"command": "switch", "strategy": "random"}])
            with open(control_path(log), "ab") as f:
                f.write(b'use"}\n')
            self.assertEqual(channel.poll(), [{"command": "pause"}])
            self.assertEqual(channel.poll(), [])



class SwiftWrittenLogsTests(unittest.TestCase):
    def test_the_sample_runs_read_without_issues(self):
        root = os.path.join(os.path.dirname(__file__), "..", "..", "sample-runs")
        # A `.partial` directory is a measurement still running (tools/findings/variants.sh), never committed.
        paths = [os.path.join(d, f) for d, _, fs in os.walk(root) if ".partial" not in d for f in fs if f.endswith(".jsonl")]
        self.assertTrue(paths)
        for path in paths:
            records, issues = read(path)
            self.assertEqual(issues, [], path)
            self.assertEqual(records[0]["kind"], "header", path)
            kinds = {r["kind"] for r in records}
            self.assertTrue({"train", "eval", "nmi", "event"} <= kinds, path)


if __name__ == "__main__":
    unittest.main()
