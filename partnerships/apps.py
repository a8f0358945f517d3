from django.apps import AppConfig


class PartnershipsConfig(AppConfig):
    """Partner, Service, Contact, MOU, Goal, FundingSource, Meeting, SuccessStory."""

    name = "partnerships"
