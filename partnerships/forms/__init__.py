"""Forms of the partnerships app, one module per area."""
