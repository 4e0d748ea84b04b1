"""Compatibility: the checkers now live in the installed package ``minisab.exercises``.

Every tutorial but the seventh imports its own module (``from minisab.exercises import t01``),
which works from any folder once minisab is installed. This file keeps ``import checks`` working
for the notebooks that still use it (tutorial 7 and its solutions) when run from ``tutorials/``.
"""
from minisab.exercises.t01 import *  # noqa: F401,F403
from minisab.exercises.t02 import *  # noqa: F401,F403
from minisab.exercises.t03 import *  # noqa: F401,F403
from minisab.exercises.t04 import *  # noqa: F401,F403
from minisab.exercises.t05 import *  # noqa: F401,F403
from minisab.exercises.t06 import *  # noqa: F401,F403
from minisab.exercises.t07 import *  # noqa: F401,F403
from minisab.exercises.t08 import *  # noqa: F401,F403
