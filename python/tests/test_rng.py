import unittest


class RNGTests(unittest.TestCase):
    """The Swift tests check these against the engine; here, the properties a trainer relies on."""

    def test_permutation_and_selection(self):
        from spt_torch.rng import RNG, vtab_selection, epoch_order
        self.assertEqual(sorted(RNG(3).permutation(100)), list(range(100)))
        tune, final = vtab_selection(2000, 0, "tune"), vtab_selection(2000, 0, "final")
        self.assertEqual((len(tune), len(final)), (800, 1000))
        self.assertEqual(final[:800], tune)
        self.assertNotEqual(epoch_order(50, 0, 0), epoch_order(50, 0, 1))


if __name__ == "__main__":
    unittest.main()
