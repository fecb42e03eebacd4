"""VPT prompt tuning of a frozen ViT in PyTorch, writing spt-tui's run logs — one process, or
several under `torchrun` (DistributedDataParallel; gloo on CPU, nccl on GPU). The global batch is
split across ranks; gradients and the logged loss are averaged, so N processes step exactly as
one process at the global batch. Rank 0 writes the log and polls the run's control channel between
steps, broadcasting what it read (`switch`, `pause`, `resume`, `restart`).

    python -m spt_torch.train --backbone mae-tiny.safetensors --task DIR --strategy kmeans --runs-dir runs
    torchrun --nproc_per_node=2 -m spt_torch.train ...

A run is the engine's (`spt train`): task folders are VTAB-1k folders (`spt tasks --export` writes
them), visited in the engine's order; prompts and head are initialized as the engine does
(`spt_torch.prompt_init`), the same AdamW or SGD with warmup + cosine steps them; the train split's
loss and accuracy are logged every epoch, the eval split (val200, or test once at the end under
`--eval-protocol final`) at every epoch's end, the per-block NMI on the first `--probe-images`
training images every `--nmi-every` steps and after every initialization.
"""
import argparse
import base64
import gc
import importlib.util
import math
import os
import signal
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

from .control import ControlChannel
from .defaults import OPTIONS, file_hash, rates
from .inputs import InputError, backbone_path, init_file, task_folder
from .data import augment, augment_draws, division, load_items
from . import kmeans as kmeans_module
from .kmeans import shard
from .model import PromptedViT, dropout_masks, learning_rate, load_backbone
from .nmi import cadence_steps, probe
from .prompt_map import due as map_due, probe_image
from .prompt_init import (POOL_VARIANTS, STRATEGIES, candidate_tokens, diversity, draw_rule, drawn_images, init_head, init_prompts,
                          variant_name)
from .rng import RNG, epoch_order, selection_hash
from .runlog import RunLog
from .wandb_log import WandBMirror


class _Parser(argparse.ArgumentParser):
    """Bad flags are one line and exit status 1, as every other bad input (no usage dump)."""

    def error(self, message):
        raise InputError(message)


def parse(argv=None):
    p = _Parser(prog="python -m spt_torch.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--backbone", required=True,
                   help="a shipped backbone's name (mae-tiny, sup-tiny), this project's backbone file, a timm hub folder, or a "
                        "timm .safetensors with config.json beside it")
    p.add_argument("--task", required=True, help="a task folder: VTAB-1k lists (spt tasks --export), class folders train/ and test/, or FGVC JSON")
    p.add_argument("--split-seed", type=int, default=OPTIONS["split_seed"],
                   help="seed of the VTAB-1k draw of 1000 training images from class folders (published divisions ignore it)")
    p.add_argument("--resize", choices=["crop", "squash"], help="timm's eval transform or VTAB's resize (default: the backbone's)")
    p.add_argument("--image-size", type=int, help="run a timm backbone at this image size (position embeddings resampled; "
                                                  "default: its config's)")
    p.add_argument("--strategy", choices=STRATEGIES, default=OPTIONS["strategy"])
    p.add_argument("--pool-variant", choices=POOL_VARIANTS, default=OPTIONS["pool_variant"],
                   help="how mean-pool, max-pool and sample draw images and cut tokens (docs/METHOD.md §3.3)")
    p.add_argument("--init-images", type=_image_count, help="images pooling and sampling draw: all or a count "
                                                            "(default: all under authors, 32 otherwise)")
    p.add_argument("--kmeans-restarts", type=int, default=OPTIONS["kmeans_restarts"], help="K-means seedings, the lowest inertia kept")
    p.add_argument("--kmeans-images", type=int, help="cluster the tokens of the first N training images (default all)")
    p.add_argument("--prompts", type=int, default=OPTIONS["prompts"])
    p.add_argument("--mode", default=OPTIONS["mode"],
                   help="prompt (VPT), linear (the head alone on the frozen backbone's features) or full (the backbone trains too)")
    p.add_argument("--deep", action="store_true")
    p.add_argument("--augment", action="store_true", help="random flip and shift by up to 2 pixels, the engine's draws")
    p.add_argument("--prompt-dropout", type=float, default=OPTIONS["prompt_dropout"],
                   help="drop each prompt element with this probability in training steps (the engine's masks)")
    p.add_argument("--epochs", type=int, help=f"default: {OPTIONS['epochs']}; 100 under --recipe vpt")
    p.add_argument("--recipe", choices=["engine", "vpt"], default=OPTIONS["recipe"],
                   help="vpt: VPT's recipe, as spt's — SGD with momentum 0.9, --lr a base rate (default 1) scaled by batch/256, "
                        "weight decay 1e-3 unless given, 10 warmup epochs from 0, the schedule stepped per epoch")
    p.add_argument("--batch", type=int, default=OPTIONS["batch"], help="global batch (split across ranks)")
    p.add_argument("--optimizer", choices=["adamw", "sgd"], default=OPTIONS["optimizer"])
    p.add_argument("--lr", type=float, help="default: the engine's for the backbone and strategy (its tuned rates for "
                                            "the shipped backbones; 3e-3 for random prompts, 1e-2 for prototypes otherwise)")
    p.add_argument("--weight-decay", type=float, help="default: the engine's (1e-4 for prompts)")
    p.add_argument("--momentum", type=float, default=OPTIONS["momentum"], help="SGD momentum")
    p.add_argument("--warmup-epochs", type=int, default=OPTIONS["warmup_epochs"])
    p.add_argument("--seed", type=int, default=OPTIONS["seed"])
    p.add_argument("--eval-protocol", choices=["tune", "final"], default=OPTIONS["eval_protocol"])
    p.add_argument("--nmi-every", type=_cadence, default=OPTIONS["nmi_every"],
                   help="steps between NMI measurements (0: never), or auto: the smallest multiple of 5 keeping the probe within 5%% of training time")
    p.add_argument("--maps", type=int, default=OPTIONS["maps"],
                   help="at most N prompt maps per run, at evenly spread NMI probes and every initialization (0: none)")
    p.add_argument("--nmi-mode", choices=["tokens", "attention"], default=OPTIONS["nmi_mode"])
    p.add_argument("--nmi-normalization", choices=["sqrt", "arithmetic"], default=OPTIONS["nmi_normalization"])
    p.add_argument("--probe-images", type=int, default=OPTIONS["probe_images"])
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="auto: CUDA where present (each torchrun process its LOCAL_RANK's GPU, nccl), else CPU (gloo); "
                        "fp32 stays fp32 on GPUs (TF32 off)")
    p.add_argument("--precision", choices=["fp32", "bf16"], default=OPTIONS["precision"],
                   help="bf16: training and evaluation passes under torch.autocast('cpu', dtype=torch.bfloat16) "
                        "(spt's --precision bf16 follows its recipe); prompt init and NMI stay fp32, as in spt")
    p.add_argument("--init", help="start from these prompts and head (spt train --save-init)")
    p.add_argument("--runs-dir", default=OPTIONS["runs_dir"])
    p.add_argument("--session", default=time.strftime("%Y%m%d-%H%M%S"))
    p.add_argument("--run", help="run id (default: the strategy)")
    p.add_argument("--max-steps", type=int, help="stop after this many steps")
    p.add_argument("--wandb", metavar="PROJECT", help="mirror the run log to this W&B project (offline unless WANDB_MODE is set)")
    p.add_argument("--checkpoint-every", type=int, default=50,
                   help="write the run's checkpoint beside its log every N steps (0: only on SIGTERM, SIGINT, SIGHUP or SIGUSR1); the same command with the same "
                        "--session resumes from it")
    a = p.parse_args(argv)
    if a.recipe == "vpt":
        a.optimizer, a.warmup_epochs = "sgd", VPT_WARMUP_EPOCHS
    if a.epochs is None:  # (0 is refused below, not replaced)
        a.epochs = VPT_EPOCHS if a.recipe == "vpt" else OPTIONS["epochs"]
    flag = lambda name: "--" + name.replace("_", "-")
    for name in ("prompts", "epochs", "batch", "probe_images", "kmeans_restarts"):
        if getattr(a, name) < 1:
            raise InputError(f"{flag(name)} {getattr(a, name)}: must be at least 1")
    for name in ("warmup_epochs", "weight_decay", "checkpoint_every"):
        if getattr(a, name) is not None and not getattr(a, name) >= 0:
            raise InputError(f"{flag(name)} {getattr(a, name)}: must be at least 0")
    if a.lr is not None and not (0 < a.lr < math.inf):
        raise InputError(f"--lr {a.lr}: must be positive and finite")
    if a.image_size is not None and not 8 <= a.image_size <= 4096:
        raise InputError(f"--image-size {a.image_size}: must be 8…4096")
    if not 0 <= a.prompt_dropout < 1:
        raise InputError(f"--prompt-dropout {a.prompt_dropout}: must be in [0, 1)")
    if not 0 <= a.momentum < 1:
        raise InputError(f"--momentum {a.momentum}: must be in [0, 1)")
    if a.mode not in ("prompt", "linear", "full"):
        raise InputError(f"--mode {a.mode}: prompt, linear or full")
    if a.mode != "prompt":
        a.prompts = 0  # as the engine: no prompts; the head on the pooled features of a frozen (linear) or training (full) backbone
    if a.wandb is not None:
        if not a.wandb.strip():
            raise InputError("--wandb: needs a project name")
        if importlib.util.find_spec("wandb") is None:
            raise InputError("--wandb: the wandb package is not installed (tools/setup-python.sh installs it)")
    a.backbone_path = backbone_path(a.backbone)
    task_folder(a.task, a.eval_protocol)
    init_file(a.init)
    return a


def _cadence(text):
    """--nmi-every: auto, or a step count ≥ 0."""
    if text == "auto":
        return text
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: auto or a step count") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{n}: must be auto or at least 0")
    return n


def _image_count(text):
    """`all` (None) or a positive count, as spt's --init-images takes it."""
    if text == "all":
        return None
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: all or a positive count")
    return int(text)


def resolve_device(choice):
    """The device a process trains on: under torchrun with CUDA, its LOCAL_RANK's GPU."""
    if choice == "cpu" or (choice == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise InputError("--device cuda: no CUDA device here")
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    torch.cuda.set_device(device)
    # fp32 means fp32: TF32 products would round the reference the CPU and the engine compute.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return device


# VPT's recipe (`Recipe` in the engine): its epochs and warmup epochs; rates are base rates × batch/256.
VPT_EPOCHS, VPT_WARMUP_EPOCHS = 100, 10


class Ranks:
    """This process's place among the ranks (one process: rank 0 of 1): gloo on CPU, nccl on GPUs,
    where K-means' collectives (on CPU tensors) get a gloo group of their own."""

    def __init__(self, device):
        self.distributed, self.device = int(os.environ.get("WORLD_SIZE", "1")) > 1, device
        if self.distributed:
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
            if device.type == "cuda":
                kmeans_module.cpu_group = dist.new_group(backend="gloo")
        self.rank, self.world = (dist.get_rank(), dist.get_world_size()) if self.distributed else (0, 1)

    def sum(self, t):
        """`t` summed over the ranks (on this process's device for the collective), on the CPU."""
        if self.distributed:
            t = t.to(self.device)
            dist.all_reduce(t)
        return t.cpu()

    def broadcast(self, obj):
        """Rank 0's `obj` on every rank."""
        if not self.distributed:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]


class Task:
    """A task folder's division as the engine makes it (`data.division`): published lists as given,
    class folders by the VTAB-1k draw with the split seed."""

    def __init__(self, folder, protocol, preprocessing, split_seed=0):
        train, evaluation, self.eval_split, self.split_seed, self.selection = division(folder, protocol, split_seed)
        self.name = os.path.basename(os.path.normpath(folder))
        self.train, self.train_labels = load_items(train, preprocessing)
        self.eval, self.eval_labels = load_items(evaluation, preprocessing)
        self.classes = int(max(self.train_labels.max(), self.eval_labels.max())) + 1

    def to(self, device):
        """On a GPU: the training images there (every step reads them), the eval split pinned on
        the CPU (it may not fit; evaluation copies it over in batches)."""
        if device.type == "cuda":
            self.train, self.train_labels = self.train.to(device), self.train_labels.to(device)
            self.eval, self.eval_labels = self.eval.pin_memory(), self.eval_labels.pin_memory()
        return self


class Run:
    """One run's training state and log (rank 0 holds the log)."""

    def __init__(self, a, ranks, backbone, task, strategy, run_id, checkpoint=None):
        """`checkpoint` (what `save_checkpoint` wrote): the run goes on from it, its log cut back to
        where the checkpoint was written and continued after a `restored` event."""
        self.a, self.ranks, self.task, self.strategy, self.id = a, ranks, task, strategy, run_id
        self.model = PromptedViT(backbone.vit, backbone.pooling, classes=task.classes, prompts=a.prompts, deep=a.deep).to(ranks.device)
        if a.mode == "full":
            self.model.unfreeze()  # before DistributedDataParallel, which reduces the gradients of what trains
        pre = backbone.preprocessing
        self.backbone_preprocessing = pre
        gpu = [ranks.device.index] if ranks.device.type == "cuda" else None
        self.trained = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=gpu) if ranks.distributed else self.model
        lr, weight_decay = rates(a.backbone_hash, strategy, a.mode)
        self.lr = a.lr if a.lr is not None else lr
        self.weight_decay = a.weight_decay if a.weight_decay is not None else weight_decay
        if a.recipe == "vpt":
            self.lr = (a.lr if a.lr is not None else 1.0) * a.batch / 256
            self.weight_decay = a.weight_decay if a.weight_decay is not None else 1e-3
        self.per_epoch = len(task.train_labels) // a.batch
        self.total = self.per_epoch * a.epochs
        self.step, self.active = 0, 0.0
        self.epoch_loss, self.epoch_correct, self.epoch_seen = 0.0, 0, 0
        self.map_basis = None  # the prompt map's plane, fixed at the run's first map
        self.path = os.path.join(a.runs_dir, a.session, run_id + ".jsonl")
        self.checkpoint_path = checkpoint_path(self.path)
        self.log = None
        if checkpoint is not None:
            self.restore(checkpoint)
            return
        # Only rank 0 probes (the others wait at the next step's collective), so only it resolves `auto`.
        self.nmi_every, cadence = (a.nmi_every, "fixed") if a.nmi_every != "auto" else (0, "fixed")
        if a.nmi_every == "auto" and ranks.rank == 0 and a.prompts > 0:
            self.nmi_every, cadence = self.resolve_cadence()
        if ranks.rank == 0:
            self.log = RunLog(
                self.path, mirror=self.mirror(), run=run_id, session=a.session, task=task.name, backbone=os.path.basename(os.path.normpath(a.backbone)),
                backbone_hash=a.backbone_hash,
                strategy=strategy, variant=variant_name(strategy, a.pool_variant, a.kmeans_restarts), prompts=a.prompts, deep=a.deep,
                pooling=backbone.pooling, mode=a.mode, optimizer=a.optimizer, lr=self.lr, weight_decay=self.weight_decay, epochs=a.epochs,
                batch=a.batch, seed=a.seed, threads=ranks.world, engine=f"spt_torch (torch {torch.__version__})",
                params={"protocol": a.eval_protocol, "eval_split": task.eval_split, "train_images": len(task.train_labels),
                        "eval_images": len(task.eval_labels), "nmi_mode": a.nmi_mode, "nmi_normalization": a.nmi_normalization,
                        "nmi_every": self.nmi_every, "nmi_cadence": cadence, "probe_images": min(a.probe_images, len(task.train_labels)),
                        "warmup_epochs": a.warmup_epochs, "augment": "true" if a.augment else "false",
                        "split_seed": "published" if task.split_seed is None else task.split_seed, "train_selection": selection_hash(task.selection), "prompt_dropout": str(float(a.prompt_dropout)), "precision": a.precision, "recipe": a.recipe,
                        "lr_schedule": "per epoch, warmup from 0 (VPT)" if a.recipe == "vpt" else "per step", "kmeans_images": a.kmeans_images or "all",
                        "init_images": drawn_images(a.pool_variant, a.init_images, min(a.kmeans_images or len(task.train_labels), len(task.train_labels))),
                        "init_draw": draw_rule(a.pool_variant), "kmeans_restarts": a.kmeans_restarts,
                        "world_size": ranks.world, "image_size": pre.size, "preprocessing": pre.summary,
                        "normalization": f"mean {list(pre.mean)} std {list(pre.std)}",
                        **({"momentum": a.momentum} if a.optimizer == "sgd" else {})})
        init_head(self.model.head, a.seed)
        if a.init:
            self.model.load_init(a.init)
        self.initialize(strategy, from_file=bool(a.init))

    @property
    def epoch(self):
        return self.step / self.per_epoch

    def save_checkpoint(self):
        """Rank 0 writes the whole training state beside the log (temporary file, fsync, rename):
        parameters, optimizer state, the step, the epoch's sums, the active time and the log's length."""
        if self.log is None:
            return
        state = dict(args=checkpoint_args(self.a), step=self.step, strategy=self.strategy, lr=self.lr, weight_decay=self.weight_decay,
                     active=self.active,
                     epoch_sums=(self.epoch_loss, self.epoch_correct, self.epoch_seen), log_bytes=self.log.length(),
                     map_basis=self.map_basis, nmi_every=self.nmi_every,
                     model=self.model.state_dict(), optimizer=self.optimizer.state_dict())
        tmp = self.checkpoint_path + ".partial"
        with open(tmp, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.checkpoint_path)

    def restore(self, c):
        # The rates the run started with (a strategy switched since may have other defaults).
        self.lr, self.weight_decay = c["lr"], c["weight_decay"]
        self.model.load_state_dict(c["model"])
        self.optimizer = self.new_optimizer()
        self.optimizer.load_state_dict(c["optimizer"])
        self.step, self.strategy, self.active = c["step"], c["strategy"], c["active"]
        self.epoch_loss, self.epoch_correct, self.epoch_seen = c["epoch_sums"]
        self.map_basis, self.nmi_every = c["map_basis"], c["nmi_every"]
        if self.ranks.rank == 0:
            self.log = RunLog.reopen(self.path, c["log_bytes"], mirror=self.mirror())
        self.event("restored", f"from {os.path.basename(self.checkpoint_path)}")

    def mirror(self):
        """Where rank 0's records go besides the run log: W&B under --wandb."""
        return WandBMirror(self.a.wandb) if self.a.wandb else None

    def resolve_cadence(self):
        """`--nmi-every auto`: the probe (with a prompt map unless --maps 0, its plane computed in the
        warm-up as a run's probes reuse theirs) and a forward and backward of this rank's batch, each
        run once to warm up and timed twice (the faster kept), give the cadence (`nmi.cadence_steps`)
        and the header's `nmi_cadence` text. Gradients are cleared afterwards; nothing else changes."""
        a, m = self.a, self.model
        local = a.batch // self.ranks.world
        images, labels = self.task.train[:local], self.task.train_labels[:local]

        def fastest(f, warm=True):
            if warm:
                f()
            times = []
            for _ in range(2):
                t0 = time.time()
                f()
                times.append(time.time() - t0)
            return min(times)

        def step():
            m.zero_grad(set_to_none=True)
            with self.autocast():
                logits = m(images).float()
            F.cross_entropy(logits, labels).backward()

        probe_images = self.task.train[:a.probe_images]
        plane = dict(centre=[], axes=[], explained=[]) if a.maps > 0 else None
        probe(m, probe_images, a.nmi_mode, a.nmi_normalization, plane)
        probe_seconds = fastest(lambda: probe(m, probe_images, a.nmi_mode, a.nmi_normalization, plane), warm=False)
        step_seconds = fastest(step)
        m.zero_grad(set_to_none=True)
        every = cadence_steps(probe_seconds, step_seconds)
        return every, (f"auto: probe {probe_seconds:.3g} s, step {step_seconds:.3g} s, "
                       f"{100 * probe_seconds / (every * step_seconds):.1f}% of training time")

    def new_optimizer(self):
        """Fresh moments over the prompts and head at the run's rates."""
        return self.model.optimizer(self.a.optimizer, self.lr, self.weight_decay, self.a.momentum)

    def timed(self, since):
        self.active += time.time() - since

    def initialize(self, strategy, from_file=False):
        """(Re)initializes the prompts with `strategy` at this step, with fresh optimizer moments."""
        self.strategy, t0 = strategy, time.time()
        m, a = self.model, self.a
        if a.prompts == 0:
            # A linear probe has no prompts to initialize (the engine logs no init record either).
            self.optimizer = self.new_optimizer()
            return
        if not from_file:
            layers = m.prompt_embeddings.shape[0]
            prompts, info = init_prompts(m.vit, strategy, self.task.train, layers, a.prompts, (a.seed + 31 * self.step) & (2**64 - 1),
                                         a.pool_variant, a.init_images, a.kmeans_images, a.kmeans_restarts)
            with torch.no_grad():
                m.prompt_embeddings.copy_(prompts)
            info.update(self.diversity(prompts))
        self.optimizer = self.new_optimizer()
        self.timed(t0)
        if self.log:
            if from_file:
                self.log.init(step=self.step, strategy=strategy, seconds=0.0, variant=f"from {os.path.basename(a.init)}")
            else:
                self.log.init(step=self.step, strategy=strategy, variant=variant_name(strategy, a.pool_variant, a.kmeans_restarts), **info)
        self.measure_nmi(initialization=True)

    def diversity(self, prompts):
        """The init record's diversity fields per prompt layer, against the probe images' prompt-free tokens."""
        if not hasattr(self, "reference"):
            probe = self.task.train[:self.a.probe_images]
            self.reference = candidate_tokens(self.model.vit, probe, prompts.shape[0])
        rows = [diversity(p.cpu(), t.cpu()) for p, t in zip(prompts, self.reference)]
        return dict(cosine=[r[0] for r in rows] if prompts.shape[1] > 1 else None,
                    effective_rank=[r[1] for r in rows], nearest=[r[2] for r in rows])

    def measure_nmi(self, initialization=False):
        if self.nmi_every <= 0 or self.log is None or self.a.prompts == 0:
            return
        t0 = time.time()
        draw = map_due(self.step, self.total, self.nmi_every, self.a.maps, initialization)
        first = self.map_basis is None
        basis = (dict(centre=[], axes=[], explained=[]) if first else self.map_basis) if draw else None
        m = probe(self.model, self.task.train[:self.a.probe_images], self.a.nmi_mode, self.a.nmi_normalization, basis)
        self.timed(t0)
        self.log.nmi(step=self.step, epoch=self.epoch, time=self.active, values=m["nmi"], mode=self.a.nmi_mode,
                     normalization=self.a.nmi_normalization)
        self.log.attention(step=self.step, epoch=self.epoch, time=self.active, cls=m["cls"], patches=m["patches"])
        if draw:
            if first:
                self.map_basis = basis
                pre = self.backbone_preprocessing
                w, h, pixels = probe_image(self.task.train[0].cpu(), pre.mean, pre.std)
                self.log.projection(step=self.step, **basis, image=base64.b64encode(pixels).decode("ascii"), image_width=w, image_height=h,
                                    image_channels=self.task.train.shape[1])
            self.log.map(step=self.step, epoch=self.epoch, time=self.active, **m["map"])

    @torch.no_grad()
    def autocast(self):
        return torch.autocast(self.ranks.device.type, dtype=torch.bfloat16, enabled=self.a.precision == "bf16")

    def evaluate(self):
        """Loss and accuracy on the eval split, each rank taking its share."""
        t0, part = time.time(), shard(len(self.task.eval_labels))
        images, labels = self.task.eval[part], self.task.eval_labels[part]
        totals = torch.zeros(2, dtype=torch.float64)
        device = self.ranks.device
        for i in range(0, len(labels), 64):
            x, y = images[i:i + 64].to(device, non_blocking=True), labels[i:i + 64].to(device, non_blocking=True)
            with self.autocast():
                logits = self.model(x).float()
            totals[0] += float(F.cross_entropy(logits, y, reduction="sum"))
            totals[1] += int((logits.argmax(1) == y).sum())
        loss, correct = self.ranks.sum(totals).tolist()
        self.timed(t0)
        n = len(self.task.eval_labels)
        if self.log:
            self.log.eval(step=self.step, epoch=self.epoch, time=self.active, split=self.task.eval_split, loss=loss / n,
                          accuracy=correct / n)

    def train_step(self):
        """One optimizer step; False when the loss or gradient is not finite (logged)."""
        a, t0 = self.a, time.time()
        if getattr(self, "order_epoch", None) != self.step // self.per_epoch:
            self.order_epoch = self.step // self.per_epoch
            self.order = epoch_order(len(self.task.train_labels), a.seed, self.order_epoch)
        k, local = self.step % self.per_epoch, a.batch // self.ranks.world
        batch = self.order[k * a.batch:(k + 1) * a.batch][self.ranks.rank * local:(self.ranks.rank + 1) * local]
        images, labels = self.task.train[batch], self.task.train_labels[batch]
        # The engine's step generator: augmentation draws, then prompt-dropout masks; every rank
        # draws for the whole batch and keeps its slice.
        rng, mine = RNG(a.seed ^ ((self.step * 0xA24BAED4963EE407) & (2**64 - 1))), slice(self.ranks.rank * local, (self.ranks.rank + 1) * local)
        if a.augment:
            pre = self.backbone_preprocessing
            images = augment(images, augment_draws(rng, a.batch)[mine], pre.mean, pre.std)
        masks = None
        if a.prompt_dropout > 0 and a.prompts > 0:
            e = self.model.prompt_embeddings
            masks = dropout_masks(rng, a.prompt_dropout, e.shape[0], a.batch, a.prompts, e.shape[2])[:, mine].to(e.device)
        lr = learning_rate(self.lr, self.step, self.total, self.per_epoch * a.warmup_epochs,
                           per_epoch=self.per_epoch if a.recipe == "vpt" else None)
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        self.optimizer.zero_grad()
        with self.autocast():
            logits = self.trained(images, masks=masks).float()
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        grads = [p.grad for p in self.model.trainable() if p.grad is not None]
        stats = self.ranks.sum(torch.tensor([loss.item() / self.ranks.world, float((logits.argmax(1) == labels).sum())],
                                            dtype=torch.float64))
        loss_value, correct = float(stats[0]), int(stats[1])
        grad_norm = math.sqrt(sum(float(g.double().pow(2).sum()) for g in grads))
        if not (math.isfinite(loss_value) and math.isfinite(grad_norm)):
            what = f"gradient norm is {grad_norm}" if math.isfinite(loss_value) else f"loss is {loss_value}"
            self.event("diverged", what)
            return False
        self.optimizer.step()
        self.step += 1
        self.epoch_loss, self.epoch_correct, self.epoch_seen = (self.epoch_loss + loss_value * a.batch,
                                                                self.epoch_correct + correct, self.epoch_seen + a.batch)
        dt = time.time() - t0
        self.active += dt
        if self.log:
            self.log.train(step=self.step, epoch=self.epoch, time=self.active, loss=loss_value, lr=lr, grad_norm=grad_norm,
                           images_per_second=a.batch / max(dt, 1e-9))
        if self.step % self.per_epoch == 0:
            if self.log:
                self.log.eval(step=self.step, epoch=self.epoch, time=self.active, split="train",
                              loss=self.epoch_loss / self.epoch_seen, accuracy=self.epoch_correct / self.epoch_seen)
            self.epoch_loss, self.epoch_correct, self.epoch_seen = 0.0, 0, 0
            # The test split is evaluated once, at the end: nothing may be selected on it.
            if self.task.eval_split != "test" or self.step == self.total:
                self.evaluate()
        if self.nmi_every > 0 and self.step % self.nmi_every == 0:
            self.measure_nmi()
        return True

    def event(self, event, message=None):
        if self.log:
            self.log.event(event, step=self.step, time=self.active, message=message)

    def switch(self, strategy):
        """A new strategy from this step on (a `segment`, then the new initialization), as the engine switches."""
        if self.log:
            self.log.segment(step=self.step, time=self.active, strategy=strategy, reason="control channel",
                             variant=variant_name(strategy, self.a.pool_variant, self.a.kmeans_restarts))
        self.initialize(strategy)

    def end(self, event=None, message=None):
        """Logs the ending `event` (none after a logged divergence) and closes the log; once."""
        if getattr(self, "ended", False):
            return
        self.ended = True
        if event:
            self.event(event, message)
        if self.log:
            self.log.close()


def checkpoint_path(log_path):
    """`runs/s/kmeans.jsonl` → `runs/s/kmeans.checkpoint.pt`."""
    return (log_path[:-len(".jsonl")] if log_path.endswith(".jsonl") else log_path) + ".checkpoint.pt"


def checkpoint_args(a):
    """The flags a checkpoint must be resumed with: all but where the run stops and what it logs to."""
    return {k: v for k, v in sorted(vars(a).items()) if k not in ("max_steps", "init", "runs_dir", "session", "checkpoint_every", "wandb")}


def unique_run_id(directory, name):
    """`name`, else `name-2`, `name-3`, … — the first without a log in `directory` (as spt-tui names runs)."""
    n, run = 1, name
    while os.path.exists(os.path.join(directory, run + ".jsonl")):
        n += 1
        run = f"{name}-{n}"
    return run


class Stop(Exception):
    """A signal that ends the run: the log gets a `stopped` event naming it."""

    def __init__(self, number):
        super().__init__(signal.Signals(number).name)
        self.number, self.signal = number, signal.Signals(number).name


# The signal a run was told to stop by; at the next step boundary where rank 0 has one, every rank
# stops there, rank 0 writing the checkpoint. A process stuck where no step ends (a collective whose peer died) stops anyway after
# STOP_GRACE seconds, without a checkpoint (the last periodic one stays).
_pending = []
STOP_GRACE = 10


def _stop(number, frame):
    if number == signal.SIGALRM:
        raise Stop(_pending[0] if _pending else number)
    if _pending:
        raise Stop(number)  # a second signal: now
    _pending.append(number)
    signal.alarm(STOP_GRACE)


def _train(a, ranks, backbone, task, session, holder):
    """The training loop: control commands between steps, until the run ends."""
    run = holder["run"]
    control = ControlChannel(run.path, fresh=True) if ranks.rank == 0 else None
    paused, steps = False, min(run.total, a.max_steps or run.total)
    while True:
        # Rank 0's commands and whether it was told to stop, at the same step on every rank (ranks
        # that stopped on their own signal at different steps would wait on each other's collective).
        commands, stop = ranks.broadcast((control.poll() if control else [], _pending[0] if _pending else None))
        if stop is not None:
            # Every record of the step before is written: a checkpoint here resumes exactly.
            signal.alarm(0)
            if run.step < run.total:
                run.save_checkpoint()
                holder["checkpointed"] = True
            raise Stop(stop)
        restart = False
        for c in commands:
            command = c.get("command")
            if command == "pause" and not paused:
                paused = True
                run.event("pause")
            elif command == "resume" and paused:
                paused = False
                run.event("resume")
            elif command == "switch" and c.get("strategy") in STRATEGIES:
                run.switch(c["strategy"])
            elif command == "restart":
                restart = True
            elif ranks.rank == 0:
                print(f"{control.path}: ignored {c}", file=sys.stderr)
        if restart:
            # As spt-tui restarts a run: this one stops, a new one starts with the current strategy.
            run.end("stopped", "restarted")
            name = ranks.broadcast(unique_run_id(session, run.strategy))
            a.init = None
            run = holder["run"] = Run(a, ranks, backbone, task, run.strategy, name)
            control = ControlChannel(run.path, fresh=True) if ranks.rank == 0 else None
            paused = False
            continue
        if paused:
            time.sleep(0.05)
            continue
        if run.step >= steps:
            run.end("finished" if run.step == run.total else "stopped")
            break
        if not run.train_step():
            run.end()
            break
        if a.checkpoint_every and run.step % a.checkpoint_every == 0 and run.step < steps:
            run.save_checkpoint()
    if ranks.rank == 0 and run.step == run.total and os.path.exists(run.checkpoint_path):
        os.unlink(run.checkpoint_path)  # the run is over: nothing to resume


def main(argv=None):
    try:
        a = parse(argv)
    except InputError as e:
        # Under torchrun every rank checks; rank 0 says it.
        if os.environ.get("RANK", "0") == "0":
            print(f"python -m spt_torch.train: {e}", file=sys.stderr)
        raise SystemExit(1)
    # What torchrun sends the other ranks when one fails, what SLURM sends before it kills or
    # requeues, and a user's Ctrl-C or hang-up: each ends the run with an event in its log.
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGALRM):
        signal.signal(number, _stop)
    try:
        device = resolve_device(a.device)
    except InputError as e:
        if os.environ.get("RANK", "0") == "0":
            print(f"python -m spt_torch.train: {e}", file=sys.stderr)
        raise SystemExit(1)
    ranks = Ranks(device)
    if a.batch % ranks.world:
        _fail(ranks, f"--batch {a.batch}: does not split over {ranks.world} processes")
    torch.manual_seed(a.seed)
    # Whatever reading them raises (safetensors', timm's, Pillow's own errors) is about that input.
    try:
        backbone = load_backbone(a.backbone_path, a.resize, a.image_size)
    except InputError as e:
        _fail(ranks, str(e))
    except Exception as e:
        _fail(ranks, f"--backbone {a.backbone}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    # Once per process: the tuned rates are looked up by it (pure Python hashes ~4 MB/s).
    weights = os.path.join(a.backbone_path, "model.safetensors") if os.path.isdir(a.backbone_path) else a.backbone_path
    a.backbone_hash = file_hash(weights)
    try:
        task = Task(a.task, a.eval_protocol, backbone.preprocessing, a.split_seed).to(device)
    except Exception as e:
        _fail(ranks, f"--task {a.task}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    if len(task.train_labels) < a.batch:
        _fail(ranks, f"--task {a.task}: {len(task.train_labels)} training images, fewer than --batch {a.batch}")
    session = os.path.join(a.runs_dir, a.session)
    # A checkpoint of this run in the session: the same run goes on (a preempted or killed job run again).
    base, checkpoint = a.run or a.strategy, None
    if os.path.exists(checkpoint_path(os.path.join(session, base + ".jsonl"))):
        checkpoint = torch.load(checkpoint_path(os.path.join(session, base + ".jsonl")), weights_only=False, map_location="cpu")
        if checkpoint.get("args") != checkpoint_args(a):
            _fail(ranks, f"{checkpoint_path(os.path.join(session, base + '.jsonl'))}: written by a run with other options; "
                         "resume with the same flags, or delete it to start over")
        name = base
    else:
        name = ranks.broadcast(unique_run_id(session, base))
    run = Run(a, ranks, backbone, task, checkpoint["strategy"] if checkpoint else a.strategy, name, checkpoint)
    holder = {"run": run}
    try:
        _train(a, ranks, backbone, task, session, holder)
    except Stop as e:
        holder["run"].end("stopped", f"{e.signal}: told to stop (torchrun after a peer failed, the scheduler, or a user)"
                                     + (f"; checkpoint at step {holder['run'].step}, the same command resumes" if holder.get("checkpointed") else ""))
        raise SystemExit(128 + e.number)
    except Exception as e:
        # A peer's death surfaces here as a failed collective; whatever it was, the log ends with it.
        holder["run"].end("error", f"{type(e).__name__}: {str(e)[:500]}")
        raise
    if ranks.distributed:
        # DDP's reducer must be freed while the process group is still registered: freed after
        # destroy_process_group, it destroys the group itself, joining gloo's threads while
        # holding the GIL one of them waits for — a hang at exit.
        del run, holder
        gc.collect()
        dist.destroy_process_group()


def _fail(ranks, message):
    """One line from rank 0, exit status 1 on every rank."""
    if ranks.rank == 0:
        print(f"python -m spt_torch.train: {message}", file=sys.stderr)
    if ranks.distributed:
        dist.destroy_process_group()
    raise SystemExit(1)


if __name__ == "__main__":
    main()
