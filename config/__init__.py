"""Shipped defaults of tongxin, as data (TOML).

Installed as ``crm_config``. A county copies ``defaults.toml`` entries into its own
config file to change them; the code never hard-codes a category, sector or region.
"""
