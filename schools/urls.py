from django.urls import path

from schools import views

urlpatterns = [
    path("", views.district_home, name="district_home"),
]
