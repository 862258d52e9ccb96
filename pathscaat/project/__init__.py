"""A project folder: slides, classes, annotations with undo that survives a restart,
models and inference runs, in one SQLite file that every edit is committed to at once.

- ``store``: :class:`Project` (``Project.create(folder)``, ``Project.open(folder)``).
- ``binding``: :class:`ProjectBinding` persists an ``AnnotationCollection``'s edits.
- ``relink``: find moved slides by size and quick hash.
- ``export``: every slide's annotations to files.
"""

from pathscaat.project.store import DB_NAME, Project, ProjectReadOnlyError

__all__ = ["DB_NAME", "Project", "ProjectReadOnlyError"]
