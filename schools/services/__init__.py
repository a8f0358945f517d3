"""Things people (and the system) do in the schools app, one module per area.

email: the outgoing mail row and its sending; people: invitations and memberships;
students: the roster and its import; access: the access log.
"""
