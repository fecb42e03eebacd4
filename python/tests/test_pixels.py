"""The pixel rule's fixture (Tests/SPTEngineTests/Fixtures/pillow-png, which the engine's
PillowPixelTests decode byte for byte) against the Pillow installed here: every PNG converts to
RGB as expected.json says, so the fixture cannot drift from what timm and spt_torch see."""
import json
import os
import unittest

try:
    from PIL import Image
except ImportError:  # the project's venv has it; run by `make test`
    Image = None

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SPTEngineTests", "Fixtures", "pillow-png")


@unittest.skipIf(Image is None, "needs Pillow (the project's venv)")
class PixelFixtureTests(unittest.TestCase):
    def test_the_fixture_is_what_pillow_gives(self):
        with open(os.path.join(ROOT, "expected.json")) as f:
            expected = json.load(f)["images"]
        self.assertGreaterEqual(len(expected), 20)
        for name, want in expected.items():
            with Image.open(os.path.join(ROOT, name + ".png")) as im:
                rgb = im.convert("RGB")
            self.assertEqual((rgb.width, rgb.height, rgb.tobytes().hex()), (want["width"], want["height"], want["rgb"]), name)


if __name__ == "__main__":
    unittest.main()
