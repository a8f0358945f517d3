from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    """Surveys, metrics, dashboards and PDF reports; reads every other app."""

    name = "evaluation"
