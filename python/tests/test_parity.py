"""The PyTorch side against the Swift engine: from the same backbone file, the same exported task,
the same initial prompts and head (`spt train --save-init`), the same batches in the same order
and the same AdamW schedule, the per-step training losses agree within 1e-4 relative over 20
steps, shallow and deep; the per-block NMI at step 0 agrees within 1e-5; K-means on the same
tokens and seed reaches the engine's inertia within 0.5%. Needs torch and timm (the project's venv: `make test` runs these tests
with it) and the `spt` binary `swift test` built; skipped, visibly, otherwise."""
import os
import subprocess
import unittest

from engine import SPT, ExportedTaskCase


class ParityTests(ExportedTaskCase):

    def swift_run(self, deep, nmi_mode=None):
        d = os.path.join(self.tmp.name, ("deep" if deep else "shallow") + (nmi_mode or ""))
        init = os.path.join(d, "init.safetensors")
        nmi = ["--nmi-every", "5", "--nmi-mode", nmi_mode] if nmi_mode else ["--nmi-every", "0"]
        subprocess.run([SPT, "train", "--task", self.task, "--backbone", "mae-tiny", "--strategy", "random", "--epochs", "1",
                        "--batch", "32", "--prompts", "4", "--threads", "1", "--save-init", init,
                        "--runs-dir", os.path.join(d, "runs")] + nmi + (["--deep"] if deep else []), check=True, capture_output=True)
        from spt_torch import read
        session = os.listdir(os.path.join(d, "runs"))[0]
        records, issues = read(os.path.join(d, "runs", session, "random.jsonl"))
        self.assertEqual(issues, [])
        return init, records

    def torch_model(self, init, header):
        """The PyTorch model from the engine's backbone file and saved init, and the normalized
        train800 images with their labels."""
        import torch
        from spt_torch.data import load_split
        from spt_torch.model import PromptedViT, load_backbone
        torch.manual_seed(0)
        torch.set_num_threads(1)
        backbone = load_backbone(self.backbone)
        images, labels = load_split(self.task, "train800.txt", backbone.preprocessing)
        model = PromptedViT(backbone.vit, backbone.pooling, classes=int(labels.max()) + 1, prompts=header["prompts"], deep=header["deep"])
        model.load_init(init)
        return model, images, labels

    def torch_losses(self, init, header, steps):
        import torch
        from spt_torch.model import learning_rate, loss
        from spt_torch.rng import epoch_order
        model, images, labels = self.torch_model(init, header)
        B = header["batch"]
        per_epoch = len(labels) // B
        opt = model.optimizer(header["optimizer"], header["lr"], header["weight_decay"])
        order = epoch_order(len(labels), header["seed"], 0)
        out = []
        for step in range(steps):
            idx = torch.tensor(order[step * B:(step + 1) * B])
            for g in opt.param_groups:
                g["lr"] = learning_rate(header["lr"], step, per_epoch * header["epochs"], per_epoch)
            opt.zero_grad()
            l = loss(model, images[idx], labels[idx])
            l.backward()
            opt.step()
            out.append(l.item())
        return out

    def check(self, deep):
        init, records = self.swift_run(deep)
        header = records[0]
        swift = [r["loss"] for r in records if r["kind"] == "train"][:20]
        ours = self.torch_losses(init, header, len(swift))
        self.assertEqual(len(swift), 20)
        worst = max(abs(a - b) / abs(b) for a, b in zip(ours, swift))
        print(f"parity ({'deep' if deep else 'shallow'}): 20 steps, largest relative difference {worst:.2e}")
        self.assertLessEqual(worst, 1e-4)

    def test_shallow(self):
        self.check(deep=False)

    def test_deep(self):
        self.check(deep=True)

    def test_kmeans_prototypes(self):
        """K-means on the same tokens (layer 0: the 800 training images' patch embeddings before
        the position embedding) reaches the engine's inertia within 0.5%."""
        import torch
        from spt_torch.kmeans import kmeans
        d = os.path.join(self.tmp.name, "kmeans")
        subprocess.run([SPT, "train", "--task", self.task, "--backbone", "mae-tiny", "--strategy", "kmeans", "--epochs", "1",
                        "--batch", "32", "--prompts", "8", "--nmi-every", "0", "--threads", "1", "--runs-dir", d],
                       check=True, capture_output=True)
        from spt_torch import read
        records, _ = read(os.path.join(d, os.listdir(d)[0], "kmeans.jsonl"))
        swift = next(r for r in records if r["kind"] == "init")
        from spt_torch.data import load_split
        from spt_torch.model import load_backbone
        backbone = load_backbone(self.backbone)
        vit = backbone.vit
        images, _ = load_split(self.task, "train800.txt", backbone.preprocessing)
        with torch.no_grad():
            tokens = vit.patch_embed(images).reshape(-1, vit.embed_dim)
        _, ours, _ = kmeans(tokens, 8, seed=0)  # the engine's seed for layer 0 of a seed-0 run
        rel = (ours - swift["inertia"]) / swift["inertia"]
        print(f"K-means on {tokens.shape[0]} tokens × {tokens.shape[1]}, 8 centroids: inertia {ours:.6g} vs the engine's "
              f"{swift['inertia']:.6g} ({rel:+.2%})")
        self.assertLessEqual(abs(rel), 0.005)

    def test_nmi_at_step_0(self):
        """Per-block NMI of the initial prompts on the probe (the first 32 training images)."""
        from spt_torch.nmi import per_block
        for deep, mode in [(False, "tokens"), (True, "tokens"), (True, "attention")]:
            init, records = self.swift_run(deep, nmi_mode=mode)
            swift = next(r for r in records if r["kind"] == "nmi" and r["step"] == 0)
            model, images, _ = self.torch_model(init, records[0])
            ours = per_block(model, images[:32], mode=mode, normalization=swift["normalization"])
            worst = max(abs(a - b) for a, b in zip(ours, swift["values"]))
            print(f"NMI at step 0 ({'deep' if deep else 'shallow'}, {mode}): {len(ours)} blocks, largest difference {worst:.1e}"
                  f" (values {min(swift['values']):.1e}…{max(swift['values']):.1e})")
            self.assertEqual(len(ours), len(swift["values"]))
            self.assertLessEqual(worst, 1e-5)


if __name__ == "__main__":
    unittest.main()
