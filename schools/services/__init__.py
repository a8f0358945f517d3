"""Things people (and the system) do in the schools app, one module per area.

email: the outgoing mail row and its sending; people: invitations and memberships;
students: the roster and its import. The access log is written by the access helpers of
student data (schools/access_log.py, used by schools/selectors.py).
"""
