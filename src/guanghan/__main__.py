"""``python -m guanghan`` runs the command line (same as the ``guanghan`` console script)."""

from guanghan.cli import app

app(prog_name="guanghan")
