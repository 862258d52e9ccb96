"""The app's project part: the open project, its panel with thumbnails, cohort runs."""
