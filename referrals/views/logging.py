"""(filled in by issue 13)"""

urlpatterns: list = []
public_urlpatterns: list = []
