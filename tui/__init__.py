"""The tongxin terminal UI (Textual). Arrives with the terminal UI issue."""
