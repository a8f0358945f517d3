"""Views: directory (see partnerships/urls.py)."""

urlpatterns: list = []
# Links that leave the product (signed, no account): served under /p/ by config/urls.py.
public_urlpatterns: list = []
