"""Views of the schools app, one module per area (home, people, students, access log)."""
