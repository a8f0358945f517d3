from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    """Instrument definitions, ScreeningWindow, Screening, RiskAlert."""

    name = "screening"
