"""Forms of the schools app, one module per area. Forms check the shape of what was typed;
the rules live in schools.services."""
