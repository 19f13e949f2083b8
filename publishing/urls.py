"""Public statistics releases (no sign-in) and the pages that prepare them."""

from django.urls import path

from publishing import downloads, manage_views, views

app_name = "publishing"

urlpatterns = [
    # Pages: staff first, so that "manage" is never read as a round.
    path("manage/", manage_views.index, name="manage"),
    path("manage/<slug:slug>/", manage_views.manage_round, name="manage-round"),
    path("manage/<slug:slug>/preview/", manage_views.preview, name="manage-preview"),
    path("manage/<slug:slug>/publish/", manage_views.publish, name="manage-publish"),
    path("manage/<slug:slug>/withdraw/", manage_views.withdraw, name="manage-withdraw"),
    path("", views.index, name="index"),
    path("<slug:slug>/", views.release, name="release"),
    path("<slug:slug>/version-<int:number>/", views.version, name="version"),
    # A version's files (publishing/downloads.py): cells.csv before the workbooks'
    # pattern, which would otherwise read it as a file named "cells".
    path(
        "<slug:slug>/version-<int:version>/cells.csv",
        downloads.public_cells,
        name="public-cells",
    ),
    path(
        "<slug:slug>/version-<int:version>/cells.csv-metadata.json",
        downloads.public_cells_metadata,
        name="public-cells-metadata",
    ),
    path(
        "<slug:slug>/version-<int:version>/<slug:name>.<slug:fmt>",
        downloads.public_file,
        name="public-file",
    ),
]
