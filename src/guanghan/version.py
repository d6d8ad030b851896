"""Guanghan's version (one definition; :mod:`guanghan` and the run outputs read it)."""

__version__ = "0.2.0"
