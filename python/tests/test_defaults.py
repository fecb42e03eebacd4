"""The PyTorch trainer takes the engine's defaults: the shipped backbones' files hash to the keys
of the tuned-rate table (as the engine names them), and the parser's defaults are the table's."""
import os
import tempfile
import unittest

from engine import REPO
from spt_torch.defaults import OPTIONS, file_hash, rates


class DefaultsTests(unittest.TestCase):
    def test_the_shipped_backbones_get_their_tuned_rates(self):
        for name, random_lr, max_pool_lr in (("mae-tiny", 3e-3, 1e-2), ("sup-tiny", 1e-3, 3e-2)):
            h = file_hash(os.path.join(REPO, "Sources", "SPTEngine", "Backbones", name + ".safetensors"))
            self.assertEqual(rates(h, "random"), (random_lr, 1e-4), name)
            self.assertEqual(rates(h, "max-pool")[0], max_pool_lr, name)
        self.assertEqual(rates(None, "kmeans"), (1e-2, 1e-4))

    def test_the_trainers_flags_default_to_the_engines(self):
        try:
            from spt_torch.train import parse
        except ImportError:
            self.skipTest("needs torch")
        with tempfile.TemporaryDirectory() as task:
            for name in ("train800.txt", "val200.txt", "train800val200.txt"):
                open(os.path.join(task, name), "w").close()
            a = parse(["--backbone", "mae-tiny", "--task", task])
        for flag in ("strategy", "pool_variant", "kmeans_restarts", "prompts", "epochs", "batch", "optimizer", "momentum",
                     "warmup_epochs", "seed", "eval_protocol", "nmi_every", "nmi_mode", "nmi_normalization", "probe_images",
                     "precision", "runs_dir", "recipe", "maps"):
            self.assertEqual(getattr(a, flag), OPTIONS[flag], flag)

    def test_auto_cadence_follows_the_engines_rule(self):
        """The table of Tests/SPTEngineTests/NMICadenceTests.swift."""
        from spt_torch.nmi import cadence_steps
        for probe, step, steps in ((0, 1, 5), (0.1, 1, 5), (0.25, 1, 5), (0.26, 1, 10), (0.5, 1, 10), (0.99, 1, 20), (1, 1, 20),
                                   (1.01, 1, 25), (3, 0.5, 120)):
            self.assertEqual(cadence_steps(probe, step), steps, (probe, step))


if __name__ == "__main__":
    unittest.main()
