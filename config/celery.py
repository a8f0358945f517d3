"""The Celery app: queues `urgent` (risk alerts), `default` (email, reminders), `reports` (PDF)."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("trellis")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("urgent", "default", "reports")]
app.autodiscover_tasks()
