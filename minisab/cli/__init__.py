"""The command line, ``python -m minisab <command>`` (or the installed ``minisab``): the commands
(``commands``), the parser and its help (``parser``), option groups (``options``), argument
checks (``checks``) and the traced training run of ``python -m minisab diagnose``
(``diagnose``).
"""
from .commands import main

__all__ = ["main"]
