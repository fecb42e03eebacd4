"""`python -m spt_torch.train` is the engine's `spt train` in PyTorch: the five strategies draw the
engine's prompts and head; a whole run logs the engine's records with its numbers; under torchrun
two processes at 16 images step as one at 32 (K-means across the two ranks included); control
commands reach a running two-process run. Needs torch, timm and the `spt` binary."""
import json
import os
import random
import signal
import subprocess
import sys
import time
import unittest

from engine import REPO, SPT, ExportedTaskCase
from spt_torch.runlog import check
from spt_torch.vocabulary import HEADER_PARAMS


class TrainerTests(ExportedTaskCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..")}

    def spt_train(self, name, flags, backbone="mae-tiny"):
        """Runs `spt train` with `flags`; returns its records and the initial prompts and head it saved."""
        d = os.path.join(self.tmp.name, "swift-" + name)
        init = os.path.join(d, "init.safetensors")
        subprocess.run([SPT, "train", "--task", self.task, "--backbone", backbone, "--threads", "1", "--save-init", init,
                        "--runs-dir", d] + flags, check=True, capture_output=True)
        from spt_torch import read
        session = next(s for s in os.listdir(d) if os.path.isdir(os.path.join(d, s)))
        records, issues = read(os.path.join(d, session, os.listdir(os.path.join(d, session))[0]))
        self.assertEqual(issues, [])
        return records, init

    def torch_train(self, runs, flags, launcher=(), run=None, wait=True):
        command = [sys.executable] + list(launcher) + ["-m", "spt_torch.train", "--backbone", self.backbone, "--task", self.task,
                                                      "--runs-dir", runs, "--session", "s"] + flags
        # A session of its own: ending it ends torchrun's workers too, whatever happens.
        p = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE if wait else subprocess.DEVNULL, env=self.env,
                             start_new_session=True)
        if not wait:
            return p
        try:
            _, err = p.communicate(timeout=300)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
        self.assertEqual(p.returncode, 0, err.decode()[-2000:])
        return self.records(runs, run or flags[flags.index("--strategy") + 1])

    def records(self, runs, run):
        from spt_torch import read
        path = os.path.join(runs, "s", run + ".jsonl")
        return read(path)[0] if os.path.exists(path) else []

    @staticmethod
    def torchrun(processes=2):
        # --standalone: a free port for the rendezvous, so runs never collide.
        return ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]

    def test_strategies_draw_the_engines_prompts_and_head(self):
        import torch
        from safetensors import safe_open
        from spt_torch.data import load_split
        from spt_torch.model import load_backbone
        from spt_torch.prompt_init import candidate_tokens, diversity, init_head, init_prompts
        backbone = load_backbone(self.backbone)
        vit = backbone.vit
        images, _ = load_split(self.task, "train800.txt", backbone.preprocessing)
        cases = [("random", "authors", []), ("kmeans", "authors", ["--kmeans-restarts", "3"]),
                 ("mean-pool", "authors", []), ("max-pool", "authors", []), ("sample", "authors", []),
                 ("mean-pool", "authors", ["--init-images", "5"]), ("mean-pool", "batch-windows", []),
                 ("max-pool", "batch-windows", []), ("sample", "batch-windows", [])]
        for strategy, variant, extra in cases:
            records, init = self.spt_train(f"init-{strategy}-{variant}{''.join(extra)}", ["--strategy", strategy, "--pool-variant", variant, "--deep",
                                                                          "--prompts", "4", "--epochs", "1", "--seed", "3",
                                                                          "--nmi-every", "0"] + extra)
            with safe_open(init, "pt") as f:
                swift, head_weight = f.get_tensor("prompt_embeddings"), f.get_tensor("head.weight")
            restarts = int(extra[1]) if extra[:1] == ["--kmeans-restarts"] else 1
            init_images = int(extra[1]) if extra[:1] == ["--init-images"] else None
            ours, info = init_prompts(vit, strategy, images, swift.shape[0], swift.shape[1], 3, variant, init_images,
                                      kmeans_restarts=restarts)
            head = torch.nn.Linear(head_weight.shape[1], head_weight.shape[0])
            init_head(head, 3)
            worst = float((ours - swift).abs().max() / swift.abs().max())
            print(f"{strategy} ({variant} {' '.join(extra)}), 6 layers × 4 prompts: largest difference {worst:.1e} of the largest value")
            self.assertTrue(torch.equal(head.weight.detach(), head_weight))
            if strategy == "random":
                self.assertTrue(torch.equal(ours, swift))
            self.assertLessEqual(worst, 1e-5)
            swift_init = next(r for r in records if r["kind"] == "init")
            self.assertEqual(info["images"], swift_init["images"])
            # The diversity fields, against the probe images' prompt-free tokens (the first 32).
            reference = candidate_tokens(vit, images[:32], swift.shape[0])
            for l, (cos, rank, near) in enumerate(diversity(p, t) for p, t in zip(ours, reference)):
                for name, value in (("cosine", cos), ("effective_rank", rank), ("nearest", near)):
                    self.assertAlmostEqual(value, swift_init[name][l], delta=1e-4 * max(1.0, abs(value)), msg=f"{strategy} {name} layer {l}")
            if strategy == "kmeans":
                self.assertLessEqual(abs(info["inertia"] / swift_init["inertia"] - 1), 0.005)

    def layout(self, kind):
        """The exported task's images as class folders (`train/<label>/`, `test/<label>/`) or as
        FGVC JSON (train800 → train.json, val200 → val.json, test → test.json), linked, not copied."""
        from spt_torch.data import read_list
        root = os.path.join(self.tmp.name, kind)
        if os.path.isdir(root):
            return root
        if kind == "class-folders":
            for split, name in (("train", "train800val200.txt"), ("test", "test.txt")):
                for path, label in read_list(self.task, name):
                    d = os.path.join(root, split, str(label))
                    os.makedirs(d, exist_ok=True)
                    os.symlink(path, os.path.join(d, os.path.basename(path)))
        else:
            os.makedirs(root)
            os.symlink(os.path.join(self.task, "images"), os.path.join(root, "images"))
            for out, name in (("train.json", "train800.txt"), ("val.json", "val200.txt"), ("test.json", "test.txt")):
                items = {os.path.relpath(p, os.path.join(self.task, "images")): label for p, label in read_list(self.task, name)}
                with open(os.path.join(root, out), "w") as f:
                    json.dump(items, f)
        return root

    def same_run(self, name, flags, backbone=None, map_tolerance=1e-5, task=None):
        """The same flags to `spt train` and `python -m spt_torch.train` (on `task`, default the
        exported one): the same records in the same order, the same training selection, losses
        within 1e-4 relative, accuracies equal, NMI within 1e-5."""
        flags = flags + ["--prompts", "4", "--epochs", "2", "--seed", "1", "--nmi-every", "10"]
        exported, self.task = self.task, task or self.task
        try:
            swift, _ = self.spt_train(name, flags, backbone or "mae-tiny")
            ours = self.torch_train(os.path.join(self.tmp.name, "torch-" + name), flags + (["--backbone", backbone] if backbone else []))
        finally:
            self.task = exported
        selection = lambda rs: (rs[0]["params"].get("split_seed"), rs[0]["params"].get("train_selection"))
        self.assertEqual(selection(ours), selection(swift))
        kinds = lambda rs: [(r["kind"], r.get("step"), r.get("split")) for r in rs if r["kind"] != "header"]
        self.maxDiff = None
        self.assertEqual(kinds(ours), kinds(swift))
        pairs = list(zip(ours, swift))
        losses = [(a["loss"], b["loss"]) for a, b in pairs if a["kind"] == "train"]
        worst = max(abs(a - b) / b for a, b in losses)
        # (A linear probe has no prompts: no NMI, attention or maps to compare.)
        nmi = max((abs(x - y) for a, b in pairs if a["kind"] == "nmi" for x, y in zip(a["values"], b["values"])), default=0.0)
        attention = max((abs(x - y) for a, b in pairs if a["kind"] == "attention" for f in ("cls", "patches")
                         for x, y in zip(a.get(f) or [], b.get(f) or [])), default=0.0)
        # The prompt map (6 significant digits; a value near a rounding boundary may round the other way).
        # Each value's difference relative to the largest magnitude of its block's row (a coordinate
        # near 0 on an axis along which tokens reach ±30 carries the error of ±30).
        rows = lambda kind, fields: [(x, y, max(1.0, max(map(abs, rb)))) for a, b in pairs if a["kind"] == kind for f in fields
                                     for ra, rb in zip(a[f], b[f]) for x, y in zip(ra, rb)]
        plane = max((abs(x - y) / scale for x, y, scale in rows("projection", ("centre", "axes", "explained"))), default=0.0)
        coords = max((abs(x - y) / scale for x, y, scale in rows("map", ("prompts", "patches", "nearest"))), default=0.0)
        print(f"{name}: {len(losses)} steps, largest relative loss difference {worst:.1e}, largest NMI difference {nmi:.1e}, "
              f"largest attention-share difference {attention:.1e}, largest map-plane difference {plane:.1e}, "
              f"largest map-coordinate difference {coords:.1e}")
        self.assertLessEqual(worst, 1e-4)
        self.assertLessEqual(nmi, 1e-5)
        self.assertLessEqual(attention, 1e-5)
        self.assertLessEqual(plane, map_tolerance)
        self.assertLessEqual(coords, map_tolerance)
        # The image view's data: the same probe image (8-bit), nearest prompts and attention percents.
        import base64
        projections = [(a, b) for a, b in pairs if a["kind"] == "projection"]
        for a, b in projections:
            pa, pb = base64.b64decode(a["image"]), base64.b64decode(b["image"])
            self.assertEqual((len(pa), a["image_width"], a["image_height"], a["image_channels"]),
                             (len(pb), b["image_width"], b["image_height"], b["image_channels"]))
            self.assertLessEqual(max(abs(x - y) for x, y in zip(pa, pb)), 1)
        flat = lambda f: [(x, y) for a, b in pairs if a["kind"] == "map" for ra, rb in zip(a[f], b[f]) for x, y in zip(ra, rb)]
        nearest = flat("image_nearest")
        self.assertGreaterEqual(sum(x == y for x, y in nearest), 0.99 * len(nearest))
        self.assertLessEqual(max((abs(x - y) for x, y in flat("image_attention")), default=0), 1)
        for a, b in pairs:
            if a["kind"] == "eval":
                self.assertAlmostEqual(a["accuracy"], b["accuracy"], places=9)
        for field in ("optimizer", "variant", "pooling"):
            self.assertEqual(ours[0].get(field), swift[0].get(field))
        for param in ("preprocessing", "image_size", "eval_split", "train_images", "init_images", "init_draw", "kmeans_restarts",
                      "recipe", "lr_schedule", "warmup_epochs"):
            self.assertEqual(ours[0]["params"][param], swift[0]["params"][param])
        # Both trainers write only the shared names, each record as the vocabulary defines it.
        for header in (ours[0], swift[0]):
            self.assertLessEqual(set(header["params"]), set(HEADER_PARAMS))
        for record in ours + swift:
            self.assertEqual(check(record), [])

    def test_a_run_logs_the_engines_records(self):
        self.same_run("kmeans-deep-adamw", ["--strategy", "kmeans", "--deep", "--lr", "1e-2"])
        self.same_run("mean-pool-sgd", ["--strategy", "mean-pool", "--deep", "--optimizer", "sgd",
                                        "--lr", "0.05", "--weight-decay", "1e-3"])
        # VPT's recipe: SGD, a base rate × batch/256, the schedule stepped per epoch with 10 warmup epochs.
        self.same_run("vpt-recipe", ["--strategy", "kmeans", "--recipe", "vpt", "--lr", "5"])
        # A linear probe: the head alone, at the engine's linear-probe rates.
        self.same_run("linear", ["--strategy", "random", "--mode", "linear"])
        # Full fine-tuning: the backbone trains with the head, at the engine's full-mode rates.
        self.same_run("full", ["--strategy", "kmeans", "--mode", "full"])
        # Augmentation: the engine's flips and shifts, drawn from its step generator.
        self.same_run("augment", ["--strategy", "sample", "--augment"])
        # The other two layouts the engine reads, made from the exported lists' images: class
        # folders (the VTAB-1k draw with a split seed) and FGVC JSON (a published division).
        self.same_run("class-folders", ["--strategy", "mean-pool", "--split-seed", "3"], task=self.layout("class-folders"))
        self.same_run("fgvc", ["--strategy", "random"], task=self.layout("fgvc"))
        # Prompt dropout: the engine's element-wise masks, drawn after the augmentation's draws.
        self.same_run("dropout", ["--strategy", "kmeans", "--deep", "--prompt-dropout", "0.1", "--augment"])

    def test_bf16_under_autocast_beside_the_engines_bf16(self):
        """--precision bf16 on both sides: PyTorch's autocast keeps each linear layer's output in
        bf16 where the engine keeps fp32, so the losses agree to bf16's precision, not to 1e-4."""
        flags = ["--strategy", "kmeans", "--lr", "1e-2", "--prompts", "4", "--epochs", "1", "--seed", "1", "--nmi-every", "10",
                 "--precision", "bf16"]
        with open("/proc/cpuinfo") as f:
            if not {"avx512_bf16", "amx_bf16"} & set(f.read().split()):
                self.skipTest("the engine refuses bf16 on a CPU without AVX512-BF16 or AMX")
        swift, _ = self.spt_train("bf16", flags)
        ours = self.torch_train(os.path.join(self.tmp.name, "torch-bf16"), flags)
        self.assertEqual(ours[0]["params"]["precision"], "bf16")
        self.assertEqual(swift[0]["params"]["precision"], "bf16")
        losses = [(a["loss"], b["loss"]) for a, b in zip(ours, swift) if a["kind"] == "train" and b["kind"] == "train"]
        worst = max(abs(a - b) / b for a, b in losses)
        print(f"bf16: {len(losses)} steps, largest relative loss difference {worst:.1e}")
        self.assertGreater(len(losses), 10)
        self.assertLessEqual(worst, 5e-3)

    def test_timm_exports_train_as_in_the_engine(self):
        """timm's own exports (config.json + model.safetensors, made by tools/timm/make_fixtures.py):
        registers with LayerScale and patch 14; avg pooling with fc_norm; CLIP's norm_pre — each
        preprocessed by its pretrained_cfg (28² task images cropped to the model's size)."""
        fixtures = os.path.join(REPO, "Tests", "SPTEngineTests", "Fixtures", "timm")
        for name in ("dinov2-reg", "mae-avg-fcnorm", "clip-norm-pre"):
            # Random-init weights give token clouds whose leading variances lie close together, where
            # the engines' float rounding of the tokens turns the principal axes a little (2e-5 of the
            # plane, 2e-4 of the coordinates on dinov2-reg); the trained backbones' maps agree to 1e-5.
            self.same_run("timm-" + name, ["--strategy", "sample", "--deep", "--lr", "1e-2"], os.path.join(fixtures, name),
                          map_tolerance=1e-3)

    def test_image_size_resamples_position_embeddings_as_the_engine(self):
        """--image-size 24 on a timm export made at 32² (patch 8): the engine's bicubic antialiased
        resampling of the 4² position grid down to 3² (where the antialiasing filter counts)
        against timm's own set_input_size, through a whole run (the header's image_size says 24).
        Without the antialiasing the losses still agree to 7e-6 but the prompt maps differ by 1e-3."""
        fixture = os.path.join(REPO, "Tests", "SPTEngineTests", "Fixtures", "timm", "mae-avg-fcnorm")
        self.same_run("timm-image-size", ["--strategy", "kmeans", "--lr", "1e-2", "--image-size", "24"], fixture, map_tolerance=1e-4)
        ours = self.records(os.path.join(self.tmp.name, "torch-timm-image-size"), "kmeans")
        self.assertEqual(ours[0]["params"]["image_size"], "24")

    def test_two_processes_step_as_one(self):
        """Global batch 32 as 2 × 16 under torchrun, K-means on each rank's half of the images."""
        flags = ["--strategy", "kmeans", "--prompts", "4", "--epochs", "2", "--max-steps", "8", "--nmi-every", "4", "--lr", "1e-2"]
        one = self.torch_train(os.path.join(self.tmp.name, "one"), flags)
        two = self.torch_train(os.path.join(self.tmp.name, "two"), flags, launcher=self.torchrun())
        self.assertEqual(two[0]["params"]["world_size"], "2")
        init = [next(r for r in rs if r["kind"] == "init") for rs in (one, two)]
        self.assertEqual(init[0]["inertia"], init[1]["inertia"])
        self.assertEqual(init[0]["iterations"], init[1]["iterations"])
        a, b = ([r["loss"] for r in rs if r["kind"] == "train"] for rs in (one, two))
        worst = max(abs(x - y) for x, y in zip(a, b))
        print(f"torchrun 2 × 16 vs 1 × 32: K-means inertia {init[1]['inertia']:.9g} on both, 8 steps, largest loss difference {worst:.1e}")
        self.assertEqual((len(a), len(b)), (8, 8))
        self.assertLessEqual(worst, 1e-5)

    def test_control_commands_reach_a_running_two_process_run(self):
        """`switch` re-initializes every rank (a `segment`), `restart` stops the run and starts
        `<strategy>-2` with the current strategy."""
        from spt_torch.control import send
        runs = os.path.join(self.tmp.name, "control")
        p = self.torch_train(runs, ["--strategy", "random", "--prompts", "4", "--epochs", "40", "--nmi-every", "0"],
                             launcher=self.torchrun(), wait=False)
        log = os.path.join(runs, "s", "random.jsonl")

        def wait_for(condition, what):
            deadline = time.time() + 180
            while time.time() < deadline and not condition():
                self.assertIsNone(p.poll(), f"the run ended before {what}")
                time.sleep(0.2)
            self.assertTrue(condition(), what)
        try:
            steps = lambda run: sum(r["kind"] == "train" for r in self.records(runs, run))
            wait_for(lambda: steps("random") >= 3, "3 steps")
            send(log, "switch", strategy="kmeans")
            wait_for(lambda: any(r["kind"] == "segment" for r in self.records(runs, "random")), "the segment")
            send(log, "restart")
            wait_for(lambda: steps("kmeans") >= 2, "2 steps of the restarted run")
            os.killpg(p.pid, signal.SIGINT)
            p.wait(timeout=60)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
        first, second = self.records(runs, "random"), self.records(runs, "kmeans")
        segments = [r for r in first if r["kind"] == "segment"]
        self.assertEqual([(s["strategy"], s["reason"]) for s in segments], [("kmeans", "control channel")])
        self.assertEqual(next(r for r in first if r["kind"] == "init" and r["step"] == segments[0]["step"])["strategy"], "kmeans")
        self.assertEqual((first[-1]["event"], first[-1]["message"]), ("stopped", "restarted"))
        self.assertEqual((second[0]["run"], second[0]["strategy"]), ("kmeans", "kmeans"))
        self.assertEqual(second[1]["kind"], "init")
        # The SIGINT that ended the session ended the second run's log with an event naming it.
        self.assertEqual((second[-1]["kind"], second[-1]["event"]), ("event", "stopped"))
        self.assertIn("SIGINT", second[-1]["message"])

    def wait_for_steps(self, p, runs, run, n):
        deadline = time.time() + 180
        while time.time() < deadline and sum(r["kind"] == "train" for r in self.records(runs, run)) < n:
            self.assertIsNone(p.poll(), f"the run ended before {n} steps")
            time.sleep(0.2)

    def test_every_run_ends_with_an_end_event_when_a_rank_dies(self):
        """SIGKILL of one rank of a two-process run: torchrun stops the other (or its collective
        fails); rank 0's log still ends with an ending event that says why."""
        runs = os.path.join(self.tmp.name, "killed-rank")
        p = self.torch_train(runs, ["--strategy", "random", "--prompts", "4", "--epochs", "40", "--nmi-every", "0"],
                             launcher=self.torchrun(), wait=False)
        try:
            self.wait_for_steps(p, runs, "random", 3)
            victim = None
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{pid}/environ", "rb") as f:
                        env = f.read().split(b"\0")
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmd = f.read()
                except OSError:
                    continue
                if b"RANK=1" in env and b"spt_torch.train" in cmd:
                    victim = int(pid)
            self.assertIsNotNone(victim, "rank 1's process")
            os.kill(victim, signal.SIGKILL)
            p.wait(timeout=120)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
        last = self.records(runs, "random")[-1]
        print(f"rank 1 killed: the log ends with {last.get('event')}: {last.get('message')}")
        self.assertEqual(last["kind"], "event")
        self.assertIn(last["event"], ("stopped", "error"))

    def test_a_killed_run_resumes_bit_for_bit(self):
        """SIGKILL at a random step, the same command again: the log holds an uninterrupted run's
        losses, evaluations and NMI exactly, each step once, after a `restored` event."""
        flags = ["--strategy", "kmeans", "--prompts", "4", "--epochs", "1", "--nmi-every", "4", "--checkpoint-every", "3"]
        stable = self.stable
        whole = stable(self.torch_train(os.path.join(self.tmp.name, "resume-whole"), flags))
        runs = os.path.join(self.tmp.name, "resume-killed")
        p, at = self.signalled(runs, flags, "kmeans", random.randint(4, 20), signal.SIGKILL)
        p.wait()
        self.assertTrue(os.path.exists(os.path.join(runs, "s", "kmeans.checkpoint.pt")))
        resumed = self.torch_train(runs, flags)
        print(f"killed after step {at}: resumed from the checkpoint, {len(whole)} records compared")
        self.assertEqual(stable(resumed), whole)
        self.assertEqual([r["event"] for r in resumed if r["kind"] == "event"], ["restored", "finished"])
        self.assertFalse(os.path.exists(os.path.join(runs, "s", "kmeans.checkpoint.pt")))

    def signalled(self, runs, flags, run, at, sig):
        """Starts a run and sends it `sig` once its log has `at` train records: (process, at)."""
        p = self.torch_train(runs, flags, wait=False)
        deadline = time.time() + 300
        while time.time() < deadline and sum(r["kind"] == "train" for r in self.records(runs, run)) < at:
            time.sleep(0.05)
        os.killpg(p.pid, sig)
        return p, at

    @staticmethod
    def stable(records):
        """What a resumed run must repeat exactly: losses, evaluations, NMI, and the prompt maps
        (drawn in the plane the checkpoint kept)."""
        return [(r["kind"], r.get("step"), r.get("loss"), r.get("accuracy"), r.get("values"), r.get("prompts"), r.get("patches"))
                for r in records if r["kind"] in ("train", "eval", "nmi", "map")]

    def test_sigterm_checkpoints_at_the_step_and_the_run_resumes(self):
        """SIGTERM (what SLURM sends before it kills or requeues) with no periodic checkpoints: the
        run writes one at the step it reached, ends `stopped` saying so, exits 143, and the same
        command finishes it as an uninterrupted run."""
        flags = ["--strategy", "mean-pool", "--prompts", "4", "--epochs", "1", "--nmi-every", "4", "--checkpoint-every", "0"]
        whole = self.stable(self.torch_train(os.path.join(self.tmp.name, "term-whole"), flags))
        runs = os.path.join(self.tmp.name, "term")
        p, at = self.signalled(runs, flags, "mean-pool", random.randint(3, 15), signal.SIGTERM)
        self.assertEqual(p.wait(timeout=120), 128 + signal.SIGTERM)
        last = self.records(runs, "mean-pool")[-1]
        self.assertEqual((last["kind"], last["event"]), ("event", "stopped"))
        self.assertIn("checkpoint at step", last["message"])
        self.assertTrue(os.path.exists(os.path.join(runs, "s", "mean-pool.checkpoint.pt")))
        resumed = self.torch_train(runs, flags)
        print(f"SIGTERM after step {at}: {last['message']}; resumed, {len(whole)} records compared")
        self.assertEqual(self.stable(resumed), whole)

    def test_a_control_file_left_by_an_earlier_run_is_not_replayed(self):
        """A `pause` left in `<run>.control.jsonl` by an earlier run of the same name (its log
        since removed) does not pause a new run at step 0."""
        from spt_torch.control import send
        runs = os.path.join(self.tmp.name, "stale-control")
        os.makedirs(os.path.join(runs, "s"))
        send(os.path.join(runs, "s", "random.jsonl"), "pause")
        records = self.torch_train(runs, ["--strategy", "random", "--prompts", "4", "--epochs", "1", "--nmi-every", "0", "--max-steps", "3"])
        self.assertEqual([r["event"] for r in records if r["kind"] == "event"], ["stopped"])
        self.assertEqual(sum(r["kind"] == "train" for r in records), 3)


if __name__ == "__main__":
    unittest.main()
