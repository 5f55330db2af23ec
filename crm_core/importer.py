"""Importing rosters: the code lives in :mod:`crm_core.roster`; this module keeps the old
import path (``from crm_core.importer import import_roster``) working."""

from crm_core.roster import *  # noqa: F403
from crm_core.roster import __all__ as __all__
