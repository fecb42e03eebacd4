"""VPT prompt tuning of a frozen ViT in PyTorch, writing spt-tui's run logs — one process, or
several under `torchrun` (DistributedDataParallel; gloo on CPU, nccl on GPU). The global batch is
split across ranks; gradients and the logged loss are averaged, so N processes step exactly as
one process at the global batch. Rank 0 writes the log and polls the run's control channel between
steps, broadcasting what it read (`switch`, `pause`, `resume`).

    python -m spt_torch.train --backbone mae-tiny.safetensors --task DIR --strategy kmeans --runs-dir runs
    torchrun --nproc_per_node=2 -m spt_torch.train ...

Task folders are VTAB-1k folders (`spt tasks --export` writes them); images are visited in the
engine's order (`spt_torch.rng`), prompts initialized as the engine does (random: uniform
±√(6/(patch_dim + D)); kmeans: the engine's K-means on the patch embeddings / block inputs of the
training images), with the engine's AdamW and warmup + cosine schedule.
"""
import argparse
import math
import os
import time

import torch
import torch.distributed as dist

from .control import ControlChannel
from .data import load_split
from .kmeans import kmeans
from .model import PromptedViT, learning_rate, load_backbone
from .rng import RNG, epoch_order
from .runlog import RunLog


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m spt_torch.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--backbone", required=True, help="a backbone file this project wrote (e.g. the shipped mae-tiny)")
    p.add_argument("--task", required=True, help="a VTAB-1k task folder (spt tasks --export)")
    p.add_argument("--strategy", choices=["random", "kmeans"], default="kmeans")
    p.add_argument("--prompts", type=int, default=10)
    p.add_argument("--deep", action="store_true")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=32, help="global batch (split across ranks)")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--warmup-epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-protocol", choices=["tune", "final"], default="tune")
    p.add_argument("--init", help="start from these prompts and head (spt train --save-init)")
    p.add_argument("--runs-dir", default="runs")
    p.add_argument("--session", default=time.strftime("%Y%m%d-%H%M%S"))
    p.add_argument("--run", help="run id (default: the strategy)")
    p.add_argument("--max-steps", type=int, help="stop after this many steps (tests)")
    return p.parse_args(argv)


def init_prompts(model, strategy, images, seed, step):
    """The engine's initialization of every prompt layer (seeded as its trainer seeds it)."""
    vit, layers, Np, D = model.vit, model.prompt_embeddings.shape[0], model.np, model.vit.embed_dim
    seed = (seed + step * 31) & ((1 << 64) - 1)
    if strategy == "random":
        rng, patch_dim = RNG(seed), vit.patch_embed.proj.weight[0].numel()
        bound = math.sqrt(6.0 / (patch_dim + D))
        values = [-bound + 2 * bound * rng.uniform() for _ in range(layers * Np * D)]
        return torch.tensor(values, dtype=torch.float32).reshape(layers, Np, D)
    out = []
    with torch.no_grad():
        tokens = [vit.patch_embed(images)]  # layer 0: patch embeddings before the position embedding
        if layers > 1:
            x = vit.norm_pre(vit._pos_embed(tokens[0]))
            P = vit.num_prefix_tokens
            for block in vit.blocks[:layers - 1]:
                x = block(x)
                tokens.append(x[:, P:])
        for layer, t in enumerate(tokens):
            centroids, _ = kmeans(t.reshape(-1, D), Np, seed=seed + layer)
            out.append(centroids)
    return torch.stack(out)


def main(argv=None):
    a = parse(argv)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    if a.batch % world:
        raise SystemExit(f"--batch {a.batch} does not split over {world} processes")
    torch.manual_seed(a.seed)
    vit, pooling, mean, std = load_backbone(a.backbone)
    images, labels = load_split(a.task, "train800.txt" if a.eval_protocol == "tune" else "train800val200.txt", len(mean))
    images = (images - torch.tensor(mean)[None, :, None, None]) / torch.tensor(std)[None, :, None, None]
    model = PromptedViT(vit, pooling, classes=int(labels.max()) + 1, prompts=a.prompts, deep=a.deep)
    strategy, run = a.strategy, a.run or a.strategy
    if a.init:
        model.load_init(a.init)
    else:
        model.prompt_embeddings.data.copy_(init_prompts(model, strategy, images, a.seed, 0))
    trained = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    opt = model.optimizer(a.lr, a.weight_decay)
    per_epoch = len(labels) // a.batch
    total, warmup, local = per_epoch * a.epochs, per_epoch * a.warmup_epochs, a.batch // world
    path = os.path.join(a.runs_dir, a.session, run + ".jsonl")
    log = RunLog(path, run=run, session=a.session, task=os.path.basename(os.path.normpath(a.task)),
                 backbone=os.path.basename(a.backbone), strategy=strategy, prompts=a.prompts, deep=a.deep, epochs=a.epochs,
                 batch=a.batch, lr=a.lr, weight_decay=a.weight_decay, seed=a.seed, threads=world,
                 params={"protocol": a.eval_protocol, "train_images": len(labels), "world_size": world}) if rank == 0 else None
    control = ControlChannel(path) if rank == 0 else None
    paused, start, order, step = False, time.time(), None, 0
    steps = min(total, a.max_steps or total)
    while step < steps:
        commands = [control.poll() if control else None]
        if distributed:
            dist.broadcast_object_list(commands, src=0)
        for c in commands[0] or []:
            if c["command"] == "pause" and not paused:
                paused = True
                if log: log.event("pause", step=step, time=time.time() - start)
            elif c["command"] == "resume" and paused:
                paused = False
                if log: log.event("resume", step=step, time=time.time() - start)
            elif c["command"] == "switch" and c.get("strategy") in ("random", "kmeans"):
                strategy = c["strategy"]
                with torch.no_grad():
                    model.prompt_embeddings.copy_(init_prompts(model, strategy, images, a.seed, step))
                if log: log.segment(step=step, time=time.time() - start, strategy=strategy, reason="control channel")
        if paused:
            time.sleep(0.05)
            continue
        if step % per_epoch == 0:
            order = epoch_order(len(labels), a.seed, step // per_epoch)
        k = step % per_epoch
        batch = order[k * a.batch:(k + 1) * a.batch][rank * local:(rank + 1) * local]
        for g in opt.param_groups:
            g["lr"] = learning_rate(a.lr, step, total, warmup)
        opt.zero_grad()
        t0 = time.time()
        loss = torch.nn.functional.cross_entropy(trained(images[batch]), labels[batch])
        loss.backward()
        opt.step()
        value = loss.detach().clone()
        if distributed:
            dist.all_reduce(value)
            value /= world
        step += 1
        if log:
            log.train(step=step, epoch=step / per_epoch, time=time.time() - start, loss=float(value),
                      lr=opt.param_groups[0]["lr"], images_per_second=a.batch / max(time.time() - t0, 1e-9))
    if log:
        log.event("finished" if step == total else "stopped", step=step, time=time.time() - start)
        log.close()
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
