"""Exports of annotations: crops, a CSV table, an HTML report and training patches.

One module each, all Qt-free: ``crops.export_crops``, ``table.write_table``,
``report.write_report``, ``patches.export_patches``. GeoJSON and ASAP XML go through
``pathscaat.annotations.io.write_annotations``. The long ones take ``on_progress`` and
``should_stop`` and are resumable: a second run skips the files a first one finished.
"""
