"""Built-in tongxin plugins, each shaped like a plugin a county would publish."""
