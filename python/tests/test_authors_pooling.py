"""The `authors` pooling variant against a transcription of the SPT authors' `prompt_generator`
(train.py / train_MAE.py, the `mean_pooling` and `max_pooling` branches), written from their code
in their own torch idiom — `x[:, -remain_size:, :]` included, which for a zero remainder is the
whole image: given the same permutation, every value equal (Swift's AuthorsPoolingTests check the
engine against a Swift transcription; test_train checks the engine against this package)."""
import unittest

try:
    import torch
except ImportError:  # the project's venv has it; run by `make test`
    torch = None


def transcription(x, num_prompts, use_max, ids_keep):
    """Their branch, x [B, L, D] one layer's tokens; `ids_keep` stands for their argsort of
    torch.rand noise."""
    pro = []
    B, L, D = x.shape
    window_size = L // (num_prompts - 1)
    remain_size = L % window_size
    for p_i in range(num_prompts - 1):
        x_ = x[:, p_i * window_size: (p_i + 1) * window_size, :]
        pro.append(torch.max(x_, dim=1).values if use_max else x_.mean(dim=1))
    pro.append(torch.max(x[:, -remain_size:, :], dim=1).values if use_max else x[:, -remain_size:, :].mean(dim=1))
    x_ = torch.stack(pro)
    assert x_.size() == (num_prompts, B, D)
    x_ = torch.reshape(x_, shape=(-1, D))
    return torch.gather(x_, dim=0, index=ids_keep.unsqueeze(-1).repeat(1, D))


@unittest.skipIf(torch is None, "needs torch (the project's venv)")
class AuthorsPoolingTests(unittest.TestCase):
    def test_equals_the_authors_code(self):
        from spt_torch.prompt_init import authors_pool
        from spt_torch.rng import RNG
        for L, Np in [(49, 4), (49, 10), (49, 20), (196, 8), (196, 20)]:
            g = torch.Generator().manual_seed(L * 100 + Np)
            x = torch.randn(5, L, 12, generator=g)
            for use_max in (False, True):
                keep = RNG(7).permutation(Np * 5)[:Np]
                want = transcription(x, Np, use_max, torch.tensor(keep))
                got = authors_pool(x, Np, use_max, keep)
                self.assertEqual(float((got - want).abs().max()), 0.0, f"L {L} Np {Np} {'max' if use_max else 'mean'}")

    def test_a_zero_remainder_pools_the_whole_image(self):
        from spt_torch.prompt_init import authors_window
        self.assertEqual(authors_window(7, 196, 8), range(196))
        self.assertEqual(authors_window(6, 196, 8), range(168, 196))
        self.assertEqual(authors_window(19, 49, 20), range(48, 49))
        self.assertEqual(authors_window(0, 49, 1), range(49))


if __name__ == "__main__":
    unittest.main()
