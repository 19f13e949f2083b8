"""Public statistics releases (no sign-in) and the pages that prepare them."""

from django.urls import path

from publishing import downloads

app_name = "publishing"

urlpatterns: list = [
    # --- A version's files (publishing/downloads.py): cells.csv before the workbooks'
    # pattern, which would otherwise read it as a file named "cells" -----------------
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
    # --- end of the files' patterns ---
]
