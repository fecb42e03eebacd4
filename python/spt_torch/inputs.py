"""The trainer's inputs, checked as the engine checks its own: a bad flag, file or folder is one
line naming it, printed once (rank 0), exit status 1 — never a traceback."""
import os
import shutil
import subprocess

# The backbones this project ships (`spt backbones`); the trainer takes their names as spt does.
SHIPPED = ("mae-tiny", "sup-tiny")


class InputError(Exception):
    """A bad input, said in one line."""


def backbone_path(name):
    """`--backbone` as a path: a file or hub folder as given, or a shipped name's file — from the
    repository this package is part of, else asked of `spt backbones --path` (SPT_BIN, else PATH)."""
    if os.path.exists(name):
        if os.path.isdir(name) and not os.path.isfile(os.path.join(name, "model.safetensors")):
            raise InputError(f"--backbone {name}: a folder without model.safetensors (a timm hub folder holds it and config.json)")
        return name
    if name not in SHIPPED:
        raise InputError(f"--backbone {name}: no such file or folder, and not a shipped backbone ({', '.join(SHIPPED)})")
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources", "SPTEngine", "Backbones", name + ".safetensors")
    if os.path.isfile(here):
        return os.path.normpath(here)
    spt = os.environ.get("SPT_BIN") or shutil.which("spt")
    if spt:
        r = subprocess.run([spt, "backbones", "--path", name], capture_output=True, text=True)
        if r.returncode == 0 and os.path.isfile(r.stdout.strip()):
            return r.stdout.strip()
    raise InputError(f"--backbone {name}: a shipped backbone, but neither this package's repository nor an spt binary "
                     "(SPT_BIN or PATH) has its file; give the .safetensors path")


def task_folder(folder, protocol):
    """`--task`: a folder in one of the engine's layouts, holding what the protocol reads."""
    from .data import layout
    if not os.path.isdir(folder):
        raise InputError(f"--task {folder}: no such folder (a VTAB-1k folder: spt tasks --export NAME --out DIR)")
    kind = layout(folder)
    if kind is None:
        raise InputError(f"--task {folder}: not a task folder (VTAB-1k lists train800val200.txt…, class folders train/ and test/, "
                         "or FGVC train.json, val.json, test.json)")
    needs = {"vtab1k": ("train800.txt", "val200.txt") if protocol == "tune" else ("train800val200.txt", "test.txt"),
             "fgvc": ("val.json",) if protocol == "tune" else ("val.json", "test.json"), "class folders": ()}[kind]
    missing = [n for n in needs if not os.path.isfile(os.path.join(folder, n))]
    if missing:
        raise InputError(f"--task {folder}: no {' or '.join(missing)} (what --eval-protocol {protocol} reads)")
    return folder


def init_file(path):
    """`--init`: the prompts and head `spt train --save-init` wrote."""
    if path is not None and not os.path.isfile(path):
        raise InputError(f"--init {path}: no such file")
    return path
