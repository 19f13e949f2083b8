from django.urls import path

from stewards import views

app_name = "stewards"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/", views.responses, name="responses"),
    path("<slug:slug>/figures.csv", views.figures_csv, name="figures-csv"),
    path("<slug:slug>/<str:gss_code>/", views.response_detail, name="response"),
]
