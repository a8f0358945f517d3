"""Reads of the partnerships app, one module per area; each takes the viewer and owns its joins.

categories (the service taxonomy and the district's own), directory (partners, services,
contacts, freshness, the coverage map), mous (MOUs, versions, comments, goals, templates,
comparison), documents (MOU PDFs), funding, stories. Access helpers look up AND authorize
in one query and raise Http404 for both "does not exist" and "not yours".

Import from the module itself (`from partnerships.selectors.mous import access_mou`):
nothing is re-exported here.
"""
