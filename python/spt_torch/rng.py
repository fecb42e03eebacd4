"""The engine's seeded generator (xoshiro256** seeded by splitmix64), bit for bit, so that a
PyTorch run draws the same VTAB-1k images and visits them in the same order as the Swift engine
(`Sources/SPTEngine/Util/RNG.swift`)."""
import math

MASK = (1 << 64) - 1


class RNG:
    def __init__(self, seed):
        x = seed & MASK
        state = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            state.append(z ^ (z >> 31))
        self.s = state

    def next(self):
        s0, s1, s2, s3 = self.s
        m = (s1 * 5) & MASK
        result = ((((m << 7) | (m >> 57)) & MASK) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & MASK
        self.s = [s0, s1, s2, s3]
        return result

    def int(self, n):
        """Uniform integer in [0, n)."""
        return self.next() % n

    def uniform(self):
        """Uniform in [0, 1) with 24 bits, as a float32 value."""
        return (self.next() >> 40) * (1.0 / 16777216.0)

    def normal(self):
        """Box–Muller, as the engine computes it (in double, then rounded to float32 by the caller)."""
        u1 = max((self.next() >> 11) * 2.0 ** -53, 1e-300)
        u2 = (self.next() >> 11) * 2.0 ** -53
        return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)

    def permutation(self, n):
        """0..<n in a random order (Fisher–Yates from the end), as `RNG.permutation`."""
        a = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.int(i + 1)
            a[i], a[j] = a[j], a[i]
        return a


def vtab_selection(train_count, seed, protocol, train_size=1000, val_size=200):
    """The training images' indices a run uses under the VTAB-1k protocol with split seed `seed`
    (`TaskData`): tune trains on the first 800 of the draw, final on all 1000."""
    picked = RNG(seed ^ 0x7AB1).permutation(train_count)[:train_size]
    n_val = min(val_size, len(picked) // 5)
    return picked[:len(picked) - n_val] if protocol == "tune" else picked


def selection_hash(indices):
    """FNV-1a over the indices as little-endian UInt64, hex: the header's `train_selection`."""
    h = 0xCBF29CE484222325
    for i in indices:
        for b in int(i).to_bytes(8, "little"):
            h = ((h ^ b) * 0x100000001B3) & MASK
    return format(h, "x")


def epoch_order(count, seed, epoch):
    """The order the engine's trainer visits the training images in an epoch."""
    return RNG((seed + epoch * 0x9E3779B9) & MASK).permutation(count)
