"""tongxin command line (Typer): a front end over crm_core services."""
