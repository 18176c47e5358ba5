"""`kana-server CMD --flag` written in a guide must exist on the command line."""

from __future__ import annotations

import re

import typer

from kana_server.cli import app

COMMAND = re.compile(r"kana-server [a-z]+(?: --[a-z-]+)*")


def commands_in(text: str) -> set[str]:
    """Every `kana-server CMD --flag ...` in a text."""
    return set(COMMAND.findall(text))


def check_command(text: str) -> None:
    """Fail unless the command and every flag given exist."""
    _, name, *flags = text.split()
    command = getattr(typer.main.get_command(app), "commands", {}).get(name)
    assert command is not None, f"no command {name}"
    options = {option for param in command.params for option in getattr(param, "opts", [])}
    assert set(flags) <= options, set(flags) - options
