"""MOU pages, by area: lists (the list, the home page's panel), drafting (a new MOU, section
and terms edits, submit, take back, send the link again, templates), review (approve,
return, the partner's comment, signing, ending early), versions (the MOU page, comparing
two versions), goals, links (the partner's signed link, served under /p/). What they share
is in common; urls lists the patterns (partnerships.urls and partnerships.public_urls read
it).

Import from the module itself (`from partnerships.views.mous.lists import mou_home_panel`):
nothing is re-exported here.
"""
