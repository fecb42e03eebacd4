"""What the tests that run beside the Swift engine share: where the `spt` binary is, whether torch
and timm import, and a test case whose class holds the `shape` task exported by `spt tasks
--export` (28², VTAB-1k lists) and the shipped `mae-tiny` backbone file."""
import os
import re
import subprocess
import tempfile
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPT = os.environ.get("SPT_BIN", os.path.join(REPO, ".build", "debug", "spt"))

try:
    import torch  # noqa: F401
    import timm  # noqa: F401
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False


@unittest.skipUnless(HAVE_TORCH and os.path.exists(SPT), "needs torch, timm and the spt binary")
class ExportedTaskCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.task = os.path.join(cls.tmp.name, "shape")
        subprocess.run([SPT, "tasks", "--export", "shape", "--out", cls.task, "--image-size", "28"], check=True, capture_output=True)
        info = subprocess.run([SPT, "info", "mae-tiny"], check=True, capture_output=True, text=True).stdout
        cls.backbone = re.search(r"file (\S+\.safetensors)", info).group(1)
