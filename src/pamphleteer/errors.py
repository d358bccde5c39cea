"""Every error pamphleteer raises on purpose, and the exit code each one means.

The core raises these; only ``cli.py`` turns them into a message and an exit code,
through click's own ``ClickException`` machinery.
"""

import click


class PamphleteerError(click.ClickException):
    """Base class: a one-line message that says what is wrong and how to fix it."""

    exit_code = 1

    def show(self, file=None):
        click.echo(f"error: {self.format_message()}", err=True, file=file)


class ConfigError(PamphleteerError):
    """``pamphleteer.toml`` or a ``layout.toml`` is missing, malformed or invalid."""

    exit_code = 2


class ContentError(PamphleteerError):
    """The article, its front matter or the slogans cannot be used as they are."""

    exit_code = 2


class UsageError(PamphleteerError):
    """The command line names something that does not exist (a target, a size)."""

    exit_code = 2


class LayoutError(PamphleteerError):
    """A layout's template or stylesheet is broken."""

    exit_code = 1


class RenderError(PamphleteerError):
    """Rendering failed: text that cannot be fitted, a refused resource, a bad font."""

    exit_code = 1


class BuildFailed(PamphleteerError):
    """Some outputs failed; the others were built. The message lists the failures."""

    exit_code = 1


class CheckFailed(PamphleteerError):
    """Preflight found errors (or, with --strict, warnings) in finished files."""

    exit_code = 1
