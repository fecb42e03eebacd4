"""The names a run log and its control channel share with the Swift side, defined once here.

Swift defines its side once too (`Sources/SPTRuns/Schema/Vocabulary.swift`, the record structs,
`RunEvent`, `ControlChannel.Command`, `Metric`); `Tests/SPTRunsTests/CrossLanguageTests.swift`
compares the two name by name and round-trips every record kind through both writers and readers.
A rename lands on both sides in one commit. `python -m spt_torch.vocabulary` prints this as JSON.
"""
import json

SCHEMA_VERSION = 1

# Each record kind's fields: type and whether every writer must write it. Types: int, float (non-
# finite values on disk as the strings "NaN", "Infinity", "-Infinity"), str, bool, floats (a list
# of float), rows (a list of lists of float: one list per block), params (a string → string map).
RECORDS = {
    "header": {
        "schema": ("int", True), "run": ("str", True), "session": ("str", True), "created": ("str", True),
        "engine": ("str", True), "task": ("str", True), "backbone": ("str", True), "backbone_hash": ("str", False),
        "strategy": ("str", True), "variant": ("str", False), "deep": ("bool", True), "prompts": ("int", True),
        "mode": ("str", False), "pooling": ("str", False), "optimizer": ("str", True), "lr": ("float", True),
        "weight_decay": ("float", True), "epochs": ("int", True), "batch": ("int", True), "seed": ("int", True),
        "threads": ("int", True), "params": ("params", False),
    },
    "train": {
        "step": ("int", True), "epoch": ("float", True), "time": ("float", True), "loss": ("float", True),
        "lr": ("float", False), "grad_norm": ("float", False), "images_per_second": ("float", False),
    },
    "eval": {
        "step": ("int", True), "epoch": ("float", True), "time": ("float", True), "split": ("str", True),
        "loss": ("float", False), "accuracy": ("float", True),
    },
    "nmi": {
        "step": ("int", True), "epoch": ("float", True), "time": ("float", True), "values": ("floats", True),
        "mode": ("str", True), "normalization": ("str", True),
    },
    "attention": {
        "step": ("int", True), "epoch": ("float", True), "time": ("float", True), "cls": ("floats", False),
        "patches": ("floats", True),
    },
    # The prompt map (docs/METHOD.md §4.4): the plane, once per run, then a map at chosen probes.
    # The probe's first image for the image view: base64 of 8-bit pixels, channels interleaved.
    "projection": {
        "step": ("int", True), "centre": ("rows", True), "axes": ("rows", True), "explained": ("rows", True),
        "image": ("str", False), "image_width": ("int", False), "image_height": ("int", False), "image_channels": ("int", False),
    },
    "map": {
        "step": ("int", True), "epoch": ("float", True), "time": ("float", True), "prompts": ("rows", True),
        "patches": ("rows", True), "nearest": ("rows", True), "image_nearest": ("rows", False), "image_attention": ("rows", False),
    },
    "init": {
        "step": ("int", True), "strategy": ("str", True), "variant": ("str", False), "seconds": ("float", True),
        "gather_seconds": ("float", False), "iterations": ("int", False), "inertia": ("float", False),
        "images": ("int", False), "cosine": ("floats", False), "effective_rank": ("floats", False),
        "nearest": ("floats", False),
    },
    "segment": {
        "step": ("int", True), "time": ("float", True), "strategy": ("str", True), "variant": ("str", False),
        "reason": ("str", True),
    },
    "event": {"step": ("int", True), "time": ("float", True), "event": ("str", True), "message": ("str", False)},
    "scalar": {"step": ("int", True), "time": ("float", True), "tag": ("str", True), "value": ("float", True)},
}

# The events both sides know; a log may carry others (kept, not acted on). The ending ones are synced.
# `restored`: the run continues from a checkpoint (the records before it end at the checkpoint's step).
EVENTS = ("pause", "resume", "restored", "finished", "stopped", "diverged", "error")
ENDING_EVENTS = frozenset(("finished", "stopped", "diverged", "error"))

# The keys of a header's `params` either trainer writes (a writer may add its own).
HEADER_PARAMS = (
    "protocol", "eval_split", "split_seed", "train_selection", "train_images", "eval_images", "nmi_mode",
    "nmi_normalization", "nmi_every", "nmi_cadence", "probe_images", "prompt_dropout", "warmup_epochs", "recipe", "precision",
    "lr_schedule", "momentum", "init_images", "init_draw", "augment", "kmeans_images", "kmeans_restarts",
    "blas_core", "image_size", "preprocessing", "normalization", "world_size",
)

# The control channel's commands (`{"command": ...}`; `switch` carries a `strategy`).
CONTROL_COMMANDS = ("switch", "pause", "resume", "restart")

# Each curve's name in `spt export`'s CSV and its TensorBoard tag, for examples of every kind of
# curve: the train step's values, a split's eval loss and accuracy (the train split's eval loss is
# the epoch's, apart from the step's), NMI per block (the CSV gives the block in a column of its
# own) and its mean, and a `scalar` record's tag, kept in both.
METRICS = (
    ("train/loss", "train/loss"), ("train/lr", "train/lr"), ("train/grad_norm", "train/grad_norm"),
    ("train/img_per_s", "train/img_per_s"), ("val/loss", "val/loss"), ("train/epoch_loss", "train/epoch_loss"),
    ("val/acc", "val/accuracy"), ("train/acc", "train/accuracy"), ("nmi", "nmi/block_3"), ("nmi/mean", "nmi/mean"),
    ("attention/cls", "attention/cls/block_3"), ("attention/patches/mean", "attention/patches/mean"),
    ("nearest", "nearest/block_3"), ("nearest/mean", "nearest/mean"),
    ("gpu/memory_gb", "gpu/memory_gb"),
)

def describe():
    """Everything above as one JSON-ready object (what the cross-language test compares)."""
    return {
        "schema": SCHEMA_VERSION,
        "records": {kind: {f: list(t) for f, t in fields.items()} for kind, fields in RECORDS.items()},
        "events": list(EVENTS), "ending_events": sorted(ENDING_EVENTS), "header_params": sorted(HEADER_PARAMS),
        "control_commands": list(CONTROL_COMMANDS), "metrics": [list(m) for m in METRICS],
    }


if __name__ == "__main__":
    print(json.dumps(describe(), indent=1, sort_keys=True))
