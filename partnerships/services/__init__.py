"""Things people do in the partnerships app, one module per area."""
