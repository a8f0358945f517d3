from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    """The tenant and its people: District, School, Membership, User; tenancy; mail outbox."""

    name = "schools"
