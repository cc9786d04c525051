"""Every `tallyman` command and option says what it is for, and `tallyman --version` answers.

The walk loads every lazy subcommand of tallyman.launch.cli, so a command that fails to import
fails here too.
"""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from tallyman.launch import cli


def walk(
    cmd: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, cmd
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd, info_name=path[-1] if path else "tallyman")
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None, f"tallyman {' '.join((*path, name))}: listed but not found"
            yield from walk(sub, (*path, name))


def name(path: tuple[str, ...]) -> str:
    return " ".join(("tallyman", *path))


@pytest.fixture(scope="module")
def tree() -> list[tuple[tuple[str, ...], click.Command]]:
    return list(walk(cli.cli))


def test_every_command_and_option_has_help(tree):
    missing = []
    for path, cmd in tree:
        if not (cmd.help or cmd.short_help):
            missing.append(f"{name(path)}: no help text")
        for p in cmd.params:
            if isinstance(p, click.Option) and "--help" not in p.opts and not p.help:
                missing.append(f"{name(path)} {'/'.join(p.opts)}: no help text")
    assert not missing, "\n".join(missing)


def test_every_help_page_renders(tree):
    runner = CliRunner()
    broken = []
    for path, _ in tree:
        got = runner.invoke(cli.cli, [*path, "--help"], prog_name="tallyman")
        if got.exit_code != 0 or "usage:" not in got.output.lower():
            broken.append(f"{name(path)} --help: exit {got.exit_code}: {got.output[-300:]}")
    assert not broken, "\n".join(broken)


def test_choices_are_listed_in_help(tree):
    """Every choice's valid values are in its help: click's `[a|b|c]`, or, where the option has
    a metavar of its own, named in its help text."""
    runner = CliRunner()
    hidden = []
    for path, cmd in tree:
        choices = [p for p in cmd.params if isinstance(getattr(p, "type", None), click.Choice)]
        if not choices:
            continue
        out = runner.invoke(cli.cli, [*path, "--help"], prog_name="tallyman").output
        flat = " ".join(out.split())
        for p in choices:
            values = [str(v) for v in p.type.choices]
            shown = flat
            if not p.type.case_sensitive:  # click shows these in lower case
                values, shown = [v.lower() for v in values], flat.lower()
            listed = f"[{'|'.join(values)}]" in shown or "{" + ",".join(values) + "}" in shown
            in_text = all(v in (getattr(p, "help", "") or "") for v in values)
            if not (listed or in_text):
                hidden.append(f"{name(path)} {p.name}: {values} not shown")
    assert not hidden, "\n".join(hidden)


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("tallyman ") and out.split()[1][0].isdigit(), out
