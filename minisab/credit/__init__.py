"""Where the credit goes: credit matrices, credit reach and backward work (``flow``), and why SAB
stalls or diverges, measured on one batch (``probe``). Both run the fast engine and read its
caches; ``flow`` runs the backward of whichever engine made a cache it is given.
"""
from .flow import credit_matrix, credit_reach, summarize

__all__ = ["credit_matrix", "credit_reach", "summarize"]
