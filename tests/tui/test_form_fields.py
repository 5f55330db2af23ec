"""Every field of the visit and follow-up forms can be seen and read at 80×24 (issue 14):
a placeholder in each empty field, labels on one line in their column, a hint that Tab
moves between fields, and 县（市、区） a drop-down of config's regions like 所在地."""

from __future__ import annotations

from collections.abc import Callable

from crm_plugins import visits as visits_plugin
from crm_tui.app import TongxinApp
from crm_tui.screens.followups import NewFollowUpDialog
from crm_tui.screens.form import InteractionForm
from crm_tui.widgets.fields import split_label
from textual.widgets import Input, Label, OptionList, Select, Static, TextArea

from crm_core.app import Tongxin
from crm_core.services import interactions

from .conftest import settle
from .test_flows import plain

SIZE = (80, 24)


def test_a_long_label_gives_its_explanation_to_the_field() -> None:
    assert split_label("场合（如所随视察调研）") == ("场合", "如所随视察调研")
    assert split_label("反映的问题（每条转为一项督办）") == ("反映的问题", "每条转为一项督办")
    assert split_label("县（市、区）") == ("县（市、区）", "")  # a name, and it fits
    assert split_label("交流内容") == ("交流内容", "")
    assert split_label("Occasion (e.g. the trip)") == ("Occasion", "e.g. the trip")


async def test_the_visit_form_shows_every_field(make_core: Callable[..., Tongxin]) -> None:
    core = make_core(plugins={"visit_test": visits_plugin})  # the real visit kind
    ids = core.test_ids  # type: ignore[attr-defined]
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_form("log", kind="visit", person_id=str(ids["张三"]))
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InteractionForm)
        assert "Tab" in plain(form.query_one("#form-hint", Static).content)
        shown = {}
        for name in ("occasion", "county", "discussed", "concerns"):
            widget = form.query_one(f"#data-{name}")
            label = widget.parent.query_one(Label)
            text = plain(label.content)
            form.query_one("#form-body").scroll_to_widget(widget, animate=False)
            await settle(pilot)
            # One line, whole (no "…"), inside the label column.
            assert label.size.height == 1 and "…" not in text, text
            shown[text] = widget
        assert list(shown) == ["场合", "县（市、区）", "交流内容", "反映的问题"]
        occasion, county, discussed, concerns = shown.values()
        assert isinstance(occasion, Input) and occasion.placeholder == "如所随视察调研"
        assert isinstance(discussed, Input) and discussed.placeholder == "可不填"
        assert isinstance(concerns, TextArea) and concerns.placeholder == "每条转为一项跟踪事项"
        # 县（市、区）: the regions of config, by label; stored by code.
        assert isinstance(county, Select)
        county.focus()
        await pilot.press("enter")  # opens its list
        await settle(pilot)
        overlay = county.query_one(OptionList)
        labels = [
            plain(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)
        ][1:]  # after the prompt (none chosen)
        regions = [t.label("zh") for t in core.config.vocab["regions"]]
        assert labels == regions and "宝应县" in labels
        code = next(t.code for t in core.config.vocab["regions"] if t.label("zh") == "宝应县")
        await pilot.press(*["down"] * (labels.index("宝应县") + 1), "enter")
        await settle(pilot)
        assert county.value == code
        form.query_one("#summary", Input).value = "走访宝应"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, InteractionForm)
    with core.unit() as unit:
        [visit] = [i for i in interactions.timeline(unit, ids["张三"]) if i.kind == "visit"]
        assert visit.data["county"] == code


async def test_the_new_follow_up_form_says_what_to_type(core: Tongxin) -> None:
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_new_follow_up(str(core.test_ids["李四"]))  # type: ignore[attr-defined]
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, NewFollowUpDialog)
        concern = dialog.query_one("#fu-title", Input)
        label = concern.parent.query_one(Label) if concern.parent else None
        assert concern.placeholder and label is not None and plain(label.content) == "反映的问题"
