"""Views of the partnerships app, one module per area; each module lists its own URLs."""
