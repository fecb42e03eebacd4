"""spt-tui's run-log schema (v1) and control channel, for training loops written in PyTorch."""
from .runlog import RunLog, read, SCHEMA_VERSION
from .control import ControlChannel

__all__ = ["RunLog", "read", "SCHEMA_VERSION", "ControlChannel"]
