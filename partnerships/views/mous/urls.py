"""The MOU URLs, in one list for partnerships.urls and one for partnerships.public_urls."""

from django.urls import path

from partnerships.views.mous.drafting import (
    mou_create_view,
    mou_resend_view,
    mou_section_view,
    mou_submit_view,
    mou_template_create_view,
    mou_template_edit_view,
    mou_templates_view,
    mou_terms_view,
    mou_withdraw_view,
)
from partnerships.views.mous.goals import mou_goal_create_view, mou_goal_progress_view
from partnerships.views.mous.links import (
    mou_review_link_comment_view,
    mou_review_link_pdf_view,
    mou_review_link_sign_view,
    mou_review_link_view,
)
from partnerships.views.mous.lists import mou_list_view
from partnerships.views.mous.review import (
    mou_approve_view,
    mou_partner_comment_view,
    mou_return_view,
    mou_sign_view,
    mou_terminate_view,
)
from partnerships.views.mous.versions import mou_compare_view, mou_detail_view

urlpatterns = [
    path("mous/", mou_list_view, name="mou_list"),
    path("mous/new/", mou_create_view, name="mou_create"),
    path("mous/templates/", mou_templates_view, name="mou_templates"),
    path("mous/templates/new/", mou_template_create_view, name="mou_template_create"),
    path("mous/templates/<int:template_id>/", mou_template_edit_view, name="mou_template_edit"),
    path("mous/goals/<int:goal_id>/progress/", mou_goal_progress_view, name="mou_goal_progress"),
    path("mous/<int:mou_id>/", mou_detail_view, name="mou_detail"),
    path("mous/<int:mou_id>/terms/", mou_terms_view, name="mou_terms"),
    path("mous/<int:mou_id>/sections/<slug:section>/", mou_section_view, name="mou_section"),
    path("mous/<int:mou_id>/compare/", mou_compare_view, name="mou_compare"),
    path("mous/<int:mou_id>/submit/", mou_submit_view, name="mou_submit"),
    path("mous/<int:mou_id>/approve/", mou_approve_view, name="mou_approve"),
    path("mous/<int:mou_id>/return/", mou_return_view, name="mou_return"),
    path("mous/<int:mou_id>/withdraw/", mou_withdraw_view, name="mou_withdraw"),
    path("mous/<int:mou_id>/resend/", mou_resend_view, name="mou_resend"),
    path("mous/<int:mou_id>/review/", mou_partner_comment_view, name="mou_partner_comment"),
    path("mous/<int:mou_id>/sign/", mou_sign_view, name="mou_sign"),
    path("mous/<int:mou_id>/terminate/", mou_terminate_view, name="mou_terminate"),
    path("mous/<int:mou_id>/goals/new/", mou_goal_create_view, name="mou_goal_create"),
]
# Links that leave the product (signed, no account): served under /p/ by config/urls.py.
public_urlpatterns = [
    path("mous/review/<str:token>/", mou_review_link_view, name="mou_review_link"),
    path("mous/review/<str:token>/sign/", mou_review_link_sign_view, name="mou_review_link_sign"),
    path("mous/review/<str:token>/pdf/", mou_review_link_pdf_view, name="mou_review_link_pdf"),
    path(
        "mous/review/<str:token>/comment/",
        mou_review_link_comment_view,
        name="mou_review_link_comment",
    ),
]
