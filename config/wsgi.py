import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# What loading Django and Trellis made lives as long as the worker: frozen, the garbage
# collector's full passes no longer walk it, and a larger first generation makes passes
# rarer during a request. The coverage map of a large district (tens of thousands of small
# tuples) took up to twice its median when a full pass fell inside it (issue 19).
gc.freeze()
gc.set_threshold(10_000, 20, 20)
