"""Writer and reader of spt-tui's run-log schema v1 (docs/guide.md, "Run logs"; the names in vocabulary.py).

A run log is JSON Lines: one record per line, `kind` first — `header`, `train`, `eval`, `nmi`,
`attention`, `init`, `segment`, `event`, `scalar`. Non-finite numbers are the strings "NaN", "Infinity", "-Infinity".
Each record is one write(2) of a complete line to a file opened O_APPEND, so a kill at any
instant loses at most the line being written; the header, segments and the final event are
fsync'ed. Three lines in anyone's training loop:

    log = RunLog("runs/s1/mine.jsonl", run="mine", session="s1", task="cifar", backbone="vit_b16",
                 strategy="random", prompts=10, epochs=3, batch=32)
    log.train(step=s, epoch=e, time=t, loss=l, lr=lr)
    log.event("finished")
"""
import datetime
import json
import math
import os

from .vocabulary import ENDING_EVENTS, RECORDS, SCHEMA_VERSION


def _finite(v):
    """Floats as the Swift writer encodes them: non-finite values as strings."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _restore(kind, obj):
    """Float fields back to floats (non-finite strings included), by the field's type in RECORDS;
    fields a kind does not define (another writer's) are left as they are."""
    for field, (typ, _) in RECORDS.get(kind, {}).items():
        v = obj.get(field)
        if typ == "float" and isinstance(v, (str, int)) and not isinstance(v, bool):
            obj[field] = _NON_FINITE[v] if isinstance(v, str) else float(v)
        elif typ == "floats" and isinstance(v, list):
            obj[field] = [_NON_FINITE[x] if isinstance(x, str) else float(x) for x in v]
        elif typ == "rows" and isinstance(v, list):
            obj[field] = [[_NON_FINITE[x] if isinstance(x, str) else float(x) for x in row] if isinstance(row, list) else row for row in v]


def check(record):
    """What is wrong with a record as read back, against RECORDS: unknown or missing fields and
    wrong types (the cross-language test reads the Swift writer's records with it)."""
    fields = RECORDS.get(record.get("kind"))
    if fields is None:
        return [f"unknown kind {record.get('kind')!r}"]
    types = {"int": lambda v: isinstance(v, int) and not isinstance(v, bool), "float": lambda v: isinstance(v, float),
             "str": lambda v: isinstance(v, str), "bool": lambda v: isinstance(v, bool),
             "floats": lambda v: isinstance(v, list) and all(isinstance(x, float) for x in v),
             "rows": lambda v: isinstance(v, list) and all(isinstance(r, list) and all(isinstance(x, float) for x in r) for r in v),
             "params": lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values())}
    problems = [f"{record['kind']}: unknown field {k}" for k in record if k != "kind" and k not in fields]
    for k, (typ, required) in fields.items():
        if k not in record:
            problems += [f"{record['kind']}: missing {k}"] if required else []
        elif not types[typ](record[k]):
            problems.append(f"{record['kind']}: {k} is not {typ}: {record[k]!r}")
    return problems


def _float(v):
    return None if v is None else float(v)


def encode(kind, fields):
    """One line of a run log, without the newline: `{"kind":...,<fields sorted>}`."""
    body = {k: _finite(v) for k, v in sorted(fields.items()) if v is not None}
    return json.dumps({"kind": kind, **body}, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class RunLog:
    """Appends records to one run's log. `header` fields follow the schema; `params` is a
    string map for anything else worth recording (its keys: vocabulary.HEADER_PARAMS, or a writer's own)."""

    def __init__(self, path, *, run, session, task, backbone, strategy, prompts, epochs, batch,
                 engine="spt_torch", deep=False, optimizer="adamw", lr=0.0, weight_decay=0.0, seed=0,
                 threads=1, backbone_hash=None, variant=None, mode="prompt", pooling=None, params=None, created=None, mirror=None):
        self.path, self.mirror = path, mirror
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        created = created or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._write("header", dict(
            schema=SCHEMA_VERSION, run=run, session=session, created=created, engine=engine, task=task,
            backbone=backbone, backbone_hash=backbone_hash, strategy=strategy, variant=variant, deep=bool(deep),
            prompts=int(prompts), mode=mode, pooling=pooling, optimizer=optimizer, lr=float(lr),
            weight_decay=float(weight_decay), epochs=int(epochs), batch=int(batch), seed=int(seed),
            threads=int(threads), params={str(k): str(v) for k, v in (params or {}).items()} or None))

    @classmethod
    def reopen(cls, path, length, mirror=None):
        """The log of a run resumed from a checkpoint: cut back to `length` bytes (what was written
        after the checkpoint is written again), then appended to; no new header (`mirror` is
        given the one on disk)."""
        log = cls.__new__(cls)
        log.path, log.mirror = path, mirror
        log._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW)
        if os.fstat(log._fd).st_size < length:
            os.close(log._fd)
            raise ValueError(f"{path}: shorter than its checkpoint says ({length} bytes): not the log it was written with")
        os.ftruncate(log._fd, length)
        os.fsync(log._fd)
        if mirror:
            mirror("header", next(r for r in read(path)[0] if r["kind"] == "header"))
        return log

    def length(self):
        """The log's length in bytes, after syncing it."""
        os.fsync(self._fd)
        return os.fstat(self._fd).st_size

    def _write(self, kind, fields):
        data = (encode(kind, fields) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        if kind in ("header", "segment") or (kind == "event" and fields.get("event") in ENDING_EVENTS):
            os.fsync(self._fd)
        if self.mirror:
            self.mirror(kind, fields)

    def train(self, *, step, epoch, time, loss, lr=None, grad_norm=None, images_per_second=None):
        """`lr`, `grad_norm`, `images_per_second` are left out of the record when not given."""
        self._write("train", dict(step=int(step), epoch=float(epoch), time=float(time), loss=float(loss), lr=_float(lr),
                                  grad_norm=_float(grad_norm), images_per_second=_float(images_per_second)))

    def eval(self, *, step, epoch, time, split, accuracy, loss=None):
        self._write("eval", dict(step=int(step), epoch=float(epoch), time=float(time), split=split, loss=_float(loss),
                                 accuracy=float(accuracy)))

    def nmi(self, *, step, epoch, time, values, mode="tokens", normalization="sqrt"):
        self._write("nmi", dict(step=int(step), epoch=float(epoch), time=float(time), values=[float(v) for v in values],
                                mode=mode, normalization=normalization))

    def attention(self, *, step, epoch, time, patches, cls=None):
        """The prompts' attention share per block: from the class token (None without one) and
        from the patch tokens on average."""
        floats = lambda xs: None if xs is None else [float(x) for x in xs]
        self._write("attention", dict(step=int(step), epoch=float(epoch), time=float(time), cls=floats(cls),
                                      patches=floats(patches)))

    def projection(self, *, step, centre, axes, explained, image=None, image_width=None, image_height=None, image_channels=None):
        """The prompt map's plane per block (once per run, before its first map), with the probe's
        first image for the image view."""
        rows = lambda xs: [[float(x) for x in r] for r in xs]
        self._write("projection", dict(step=int(step), centre=rows(centre), axes=rows(axes), explained=rows(explained), image=image,
                                       image_width=image_width, image_height=image_height, image_channels=image_channels))

    def map(self, *, step, epoch, time, prompts, patches, nearest, image_nearest=None, image_attention=None):
        """Where the prompts sit among the sampled patch tokens, per block, and the image view's overlays."""
        rows = lambda xs: None if xs is None else [[float(x) for x in r] for r in xs]
        self._write("map", dict(step=int(step), epoch=float(epoch), time=float(time), prompts=rows(prompts), patches=rows(patches),
                                nearest=rows(nearest), image_nearest=rows(image_nearest), image_attention=rows(image_attention)))

    def init(self, *, step, strategy, seconds, variant=None, gather_seconds=None, iterations=None, inertia=None, images=None,
             cosine=None, effective_rank=None, nearest=None):
        floats = lambda xs: None if xs is None else [float(x) for x in xs]
        self._write("init", dict(step=int(step), strategy=strategy, variant=variant, seconds=float(seconds),
                                 gather_seconds=_float(gather_seconds), iterations=iterations, inertia=_float(inertia), images=images,
                                 cosine=floats(cosine), effective_rank=floats(effective_rank), nearest=floats(nearest)))

    def segment(self, *, step, time, strategy, reason, variant=None):
        self._write("segment", dict(step=int(step), time=float(time), strategy=strategy, variant=variant, reason=reason))

    def scalar(self, *, step, time, tag, value):
        """Any other metric (the dashboard's `m` key cycles through them)."""
        self._write("scalar", dict(step=int(step), time=float(time), tag=str(tag), value=float(value)))

    def event(self, event, *, step=0, time=0.0, message=None):
        self._write("event", dict(step=int(step), time=float(time), event=event, message=message))

    def close(self):
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read(path):
    """The records of a run log as dicts (numbers restored), and the problems met: lines that do
    not parse are skipped and reported (a torn last line after a kill is one)."""
    records, issues = [], []
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict) or not isinstance(obj.get("kind"), str):
                    raise ValueError("not a record")
            except ValueError as e:
                issues.append(f"line {n}: {e}")
                continue
            if obj["kind"] == "header" and obj.get("schema", 1) > SCHEMA_VERSION:
                raise ValueError(f"{path}: run-log schema version {obj['schema']} is newer than this reader ({SCHEMA_VERSION})")
            try:
                _restore(obj["kind"], obj)
            except (KeyError, TypeError, ValueError):
                issues.append(f"line {n}: {obj['kind']}: a number field holds something else")
                continue
            records.append(obj)
    return records, issues
