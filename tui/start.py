"""What the app does once its first screen is up (called from ``TongxinApp.on_mount``):
settle who "I" am — acting as the remembered account, or asking on a one-person install
(:mod:`crm_tui.identity`) — then offer back the forms left unsaved
(:mod:`crm_tui.screens.draft_offer`)."""

from __future__ import annotations

from typing import Any

from crm_tui import identity
from crm_tui.common import report
from crm_tui.screens import whoami
from crm_tui.screens.draft_offer import offer_drafts

from crm_core.app import Tongxin


def start_session(app: Any, core: Tongxin) -> None:
    """Identity first (the first screen has not read its data yet: it reads it as the
    account settled here), then the drafts."""
    try:
        asking = identity.settle_identity(app)
    except Exception as exc:
        report(app, exc)
        asking = False
    if asking:
        whoami.ask(app, then=lambda: offer_drafts(app, core))
    else:
        offer_drafts(app, core)
