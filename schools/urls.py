from django.urls import path

from schools.views import home

urlpatterns = [
    path("", home.district_home, name="district_home"),
]
