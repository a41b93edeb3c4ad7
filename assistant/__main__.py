"""`python -m assistant` is the `ivb` command."""

from assistant.cli import app

app()
