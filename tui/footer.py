"""The footer of every screen: its keys wrap onto a second (third…) row instead of being
cut at the terminal's edge, so at 80 columns F8 and the screen's own keys all show."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widgets import Footer as _Footer
from textual.widgets._footer import FooterKey


class Footer(_Footer):
    """Textual's compact footer, laid out in as many rows as its keys need.

    Textual's own puts every key on one line and hides what passes the edge (it can
    only be scrolled to with a mouse wheel); this one packs the keys into rows the
    width of the terminal. Binding groups are not used by tongxin, so each key is one
    item, as Textual shows an ungrouped key."""

    DEFAULT_CSS = """
    Footer.-rows {
        layout: vertical;
        height: auto;
    }
    Footer.-rows > HorizontalGroup.footer-row {
        height: 1;
        width: 1fr;
    }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("compact", True)
        super().__init__(*args, **kwargs)
        self.add_class("-rows")
        self._laid_out_for = 0  # the width the rows were packed for

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = max(self.app.size.width, 20)
        self._laid_out_for = width
        seen: set[str] = set()
        keys: list[FooterKey] = []
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)  # one item per action, as Textual's footer shows
            key = FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            )
            keys.append(key.data_bind(compact=_Footer.compact))
        rows: list[list[FooterKey]] = [[]]
        used = 0
        for key in keys:
            # Compact: "key description" and one column between keys.
            need = cell_len(key.key_display) + 1 + cell_len(key.description) + 1
            if rows[-1] and used + need > width:
                rows.append([])
                used = 0
            rows[-1].append(key)
            used += need
        for row in rows:
            if row:
                yield HorizontalGroup(*row, classes="footer-row")

    def on_resize(self, event: events.Resize) -> None:
        # The rows were packed for another width: pack them again.
        if self._bindings_ready and self.app.size.width != self._laid_out_for:
            self.call_after_refresh(self.recompose)
