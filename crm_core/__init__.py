"""tongxin (同心) core: contacts, interactions, assignments, follow-ups and the plugin host.

This package is the one API of every front end (CLI, terminal UI, feed server, reminder
daemon). It never imports Textual or Typer.
"""

from crm_core.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]
