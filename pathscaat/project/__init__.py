"""A project folder: slides, classes, annotations with undo that survives a restart,
models and inference runs, in one SQLite file that every edit is committed to at once.

- ``store``: :class:`Project` (``Project.create(folder)``, ``Project.open(folder)``).
- ``binding``: :class:`ProjectBinding` persists an ``AnnotationCollection``'s edits.
- ``relink``: find moved slides by size and quick hash.
- ``export``: every slide's annotations to files.
- ``location``: ``new_project_folder``: an empty folder, or a new sub-folder of a full one.
"""

from pathlib import Path

from pathscaat.progress import PathscaatError
from pathscaat.project.location import new_project_folder
from pathscaat.project.store import DB_NAME, Project, ProjectDamagedError, ProjectReadOnlyError

__all__ = [
    "DB_NAME", "Project", "ProjectDamagedError", "ProjectReadOnlyError", "new_project_folder",
    "project_slide_mpps",
    "project_slide_paths",
]  # fmt: skip


def project_slide_paths(folder: str | Path) -> list[Path]:
    """Where each slide of the project at ``folder`` is now (a missing one stays listed).

    Opened read-only, so a cohort can run while the app holds the project.
    """
    return list(project_slide_mpps(folder))


def project_slide_mpps(folder: str | Path) -> dict[Path, float | None]:
    """Each slide of the project (as :func:`project_slide_paths`) and the µm/px override the
    project saved for it (None: the file's own)."""
    with Project.open(folder, read_only=True) as project:
        paths = {record.path: record.mpp_override for record in project.slides()}
    if not paths:
        raise PathscaatError(
            f"{folder}: the project has no slides. Add some with "
            f"`pathscaat project add {folder} SLIDE...`."
        )
    return paths
