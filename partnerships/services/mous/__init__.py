"""MOUs, by area: drafting (templates, a new MOU, section and terms edits), workflow (review,
signing, termination, the moves Trellis makes on dates), links (the partner's signed review
link), mail (to the partner and to staff), goals. The text and the rules they share
(sections, placeholders, status sets, what a person may do now) are in
partnerships.mou_rules, which the selectors use too.

An MOU's text lives in numbered versions (MOUVersion): every saved change makes a new
one carrying all sections and the terms as they stood. Sections keep their placeholders
({district}, {partner}, {end_date}...) and are filled from the version's own terms when
shown, so the text always agrees with the terms it was saved with; a missing value shows
visibly ("[end date]").

Workflow (MOU_TRANSITIONS): draft -> internal review (a coordinator submits) -> sent to
the partner (an administrator approves; the partner's leadership and intake contacts get
a signed link) or back to draft with comments -> the partner comments (back to draft) or
signs -> the district signs (an administrator) -> active -> expiring -> expired, or
terminated early with a reason. Every status change goes through `_move`, which refuses
anything MOU_TRANSITIONS does not allow.

Signatures are on an exact version; the first one locks it (locked_at). A change after
that makes a new version and sends the MOU back to draft: review and signatures again.

Rule violations raise ValidationError (keyed by form field where one applies); acting
without the capability raises PermissionDenied. Import from the module itself
(`from partnerships.services.mous.workflow import mou_sign`): nothing is re-exported here.
"""
