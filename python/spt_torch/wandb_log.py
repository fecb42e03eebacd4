"""A run log's records mirrored to Weights & Biases (`spt_torch.train --wandb PROJECT`), under the
metric names spt-tui reads back from W&B run files (docs/guide.md, "Logs of other tools"):
`train/loss`, `lr`, `grad_norm`, `train/img_per_s`, `epoch`; `<split>/accuracy` and `<split>/loss`
(the train split's epoch loss as `train/epoch_loss`); `nmi/block_<i>` and `nmi/mean`;
`attention/cls/block_<i>` and `attention/patches/block_<i>`; a segment as a `strategy` text;
scalars under their tags. The header becomes the run's config (its fields and params), the run
log's name the W&B run's name and the session its group. Offline unless WANDB_MODE says otherwise
(no account needed; `wandb sync` uploads later); WANDB_DIR chooses where `wandb/` goes."""
import os
import re

EXIT_CODES = {"finished": 0, "stopped": 0, "diverged": 1, "error": 1}


def run_id(session, run):
    """A W&B run id that names the same run across resumes: W&B ids avoid `/\\#?%:`."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{session}-{run}")[:128]


def metrics(kind, fields):
    """One record's values as W&B metrics ({} for records W&B does not carry)."""
    def present(d):
        return {k: v for k, v in d.items() if v is not None}
    if kind == "train":
        return present({"train/loss": fields["loss"], "lr": fields.get("lr"), "grad_norm": fields.get("grad_norm"),
                        "train/img_per_s": fields.get("images_per_second"), "epoch": fields["epoch"]})
    if kind == "eval":
        split = fields["split"]
        loss_name = "train/epoch_loss" if split == "train" else f"{split}/loss"
        return present({f"{split}/accuracy": fields["accuracy"], loss_name: fields.get("loss")})
    if kind == "nmi":
        values = fields["values"]
        return {**{f"nmi/block_{b}": v for b, v in enumerate(values)}, "nmi/mean": sum(values) / len(values)}
    if kind == "attention":
        out = {f"attention/patches/block_{b}": v for b, v in enumerate(fields["patches"])}
        out.update({f"attention/cls/block_{b}": v for b, v in enumerate(fields.get("cls") or [])})
        return out
    if kind == "segment":
        return {"strategy": fields["strategy"]}
    if kind == "scalar":
        return {fields["tag"]: fields["value"]}
    return {}


class WandBMirror:
    """Called with each record a RunLog writes (rank 0 only): the header starts the W&B run
    (resuming it when the run log is a resumed one), an ending event finishes it."""

    def __init__(self, project):
        import wandb
        self.wandb, self.project, self.run = wandb, project, None

    def start(self, header):
        config = {k: v for k, v in header.items() if k not in ("kind", "params") and v is not None}
        config.update(header.get("params") or {})
        self.run = self.wandb.init(project=self.project, name=header["run"], group=header["session"],
                                   id=run_id(header["session"], header["run"]), resume="allow",
                                   mode=os.environ.get("WANDB_MODE", "offline"), config=config)

    def __call__(self, kind, fields):
        if kind == "header":
            self.start(fields)
        elif self.run is None:
            return
        elif kind == "event" and fields["event"] in EXIT_CODES:
            self.run.finish(exit_code=EXIT_CODES[fields["event"]])
            self.run = None
        elif values := metrics(kind, fields):
            # Records of one step share a row: W&B commits a row when a later step is logged.
            self.run.log(values, step=fields["step"])
