"""The command channel beside a run log: `<run>.control.jsonl`, which spt-tui appends to when
its run keys are pressed on a watched run, and which the training loop polls between steps.

One JSON object per line, each written with one write(2) to a file opened O_APPEND:
    {"command": "switch", "strategy": "kmeans"}   re-initialize the prompts (log a `segment`)
    {"command": "pause"}  {"command": "resume"}   stop / go on stepping
    {"command": "restart"}                        end this run ("stopped") and start it again
A line is taken only once it is complete (ends with a newline); unknown commands are returned
as they are, for the caller to refuse in its log. Only a regular file is read (a FIFO or a device
named like the channel is ignored, never waited on), and a run starts with no channel: commands
left by an earlier run of the same name are not replayed.
"""
import json
import os
import stat
import sys

from .vocabulary import CONTROL_COMMANDS


def control_path(log_path):
    """`runs/s/kmeans.jsonl` → `runs/s/kmeans.control.jsonl`."""
    base = log_path[:-len(".jsonl")] if log_path.endswith(".jsonl") else log_path
    return base + ".control.jsonl"


class ControlChannel:
    """Reads the commands written since the last poll (rank 0 polls; it broadcasts what it read)."""

    def __init__(self, log_path, fresh=False):
        """`fresh`: the run this channel commands starts now — a channel file left from an earlier
        run is removed (the trainer passes it; a reader of someone else's channel does not)."""
        self.path = control_path(log_path)
        self._offset = 0
        self._pending = b""
        self._warned = False
        if fresh:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    def poll(self):
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        except (FileNotFoundError, OSError) as e:
            if not isinstance(e, FileNotFoundError) and not self._warned:
                self._warned = True
                print(f"{self.path}: cannot read the control channel: {e.strerror}", file=sys.stderr)
            return []
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                if not self._warned:
                    self._warned = True
                    print(f"{self.path}: not a regular file; control commands ignored", file=sys.stderr)
                return []
            os.lseek(fd, self._offset, os.SEEK_SET)
            chunks = []
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
            data = b"".join(chunks)
        finally:
            os.close(fd)
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
    if command not in CONTROL_COMMANDS:
        raise ValueError(f"unknown control command {command!r}; known: {', '.join(CONTROL_COMMANDS)}")
    line = (json.dumps({"command": command, **fields}, separators=(",", ":")) + "\n").encode()
    path = control_path(log_path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
        os.write(fd, line)
    finally:
        os.close(fd)
