"""spt-tui's run-log schema (v1), control channel and seeded generator, for training loops written in PyTorch."""
from .runlog import RunLog, read, SCHEMA_VERSION
from .control import ControlChannel

__all__ = ["RunLog", "read", "SCHEMA_VERSION", "ControlChannel"]
