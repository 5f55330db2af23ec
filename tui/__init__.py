"""The tongxin terminal UI (Textual): ``crm_tui.app.TongxinApp`` over a ``Tongxin``.

Screens talk to the core through ``crm_core.services`` only, and show whatever kinds,
panels and dashboard cards the plugins register.
"""
