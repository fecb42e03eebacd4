"""The command channel beside a run log: `<run>.control.jsonl`, which spt-tui appends to when
its run keys are pressed on a watched run, and which the training loop polls between steps.

One JSON object per line, each written with one write(2) to a file opened O_APPEND:
    {"command": "switch", "strategy": "kmeans"}   re-initialize the prompts (log a `segment`)
    {"command": "pause"}  {"command": "resume"}   stop / go on stepping
    {"command": "restart"}                        end this run ("stopped") and start it again
A line is taken only once it is complete (ends with a newline); unknown commands are returned
as they are, for the caller to refuse in its log.
"""
import json
import os

COMMANDS = {"switch", "pause", "resume", "restart"}


def control_path(log_path):
    """`runs/s/kmeans.jsonl` → `runs/s/kmeans.control.jsonl`."""
    base = log_path[:-len(".jsonl")] if log_path.endswith(".jsonl") else log_path
    return base + ".control.jsonl"


class ControlChannel:
    """Reads the commands written since the last poll (rank 0 polls; it broadcasts what it read)."""

    def __init__(self, log_path):
        self.path = control_path(log_path)
        self._offset = 0
        self._pending = b""

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        data = self._pending + data
        *lines, self._pending = data.split(b"\n")
        commands = []
        for line in lines:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("command"), str):
                commands.append(obj)
        return commands


def send(log_path, command, **fields):
    """Appends one command (what spt-tui does; also handy from a shell or a notebook)."""
    line = (json.dumps({"command": command, **fields}, separators=(",", ":")) + "\n").encode()
    fd = os.open(control_path(log_path), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
