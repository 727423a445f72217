"""The archive and its verbs: open it, capture, check, watch, find text, show a capture."""
