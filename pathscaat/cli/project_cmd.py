"""``pathscaat project init|add|add-run|list|relink|export``: a project from the command line.

``init DIR`` makes the folder (``project.sqlite``, ``overlays/``, ``models/``, ``exports/``);
``add DIR SLIDE...`` adds slides (each opened once to check it); ``add-run DIR OUT...``
records ``pathscaat infer`` outputs as runs of their slides; ``list DIR`` shows slides,
annotation counts per class, models and runs (``--json`` for scripts); ``relink DIR
FOLDER...`` finds moved slides by size and quick hash; ``export DIR --out OUT`` writes each
slide's annotations (QuPath GeoJSON by default). A project open in the app is read and
listed, but not changed: the command says so and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pathscaat.cli.jobs import progress_job
from pathscaat.cli.reporting import add_progress_arg
from pathscaat.progress import PathscaatError, ProgressRecord
from pathscaat.project import Project, ProjectDamagedError
from pathscaat.slides import SlideError


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of µm/px, got {text}")
    return value


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "project",
        help="a project folder: slides, annotations, models, runs",
        description=(__doc__ or "").splitlines()[0].replace("``", ""),
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    p = verbs.add_parser("init", help="make a new project folder")
    p.add_argument("dir", help="project folder (created if absent)")
    p.set_defaults(func=run_init)
    p = verbs.add_parser("add", help="add slides to a project")
    p.add_argument("dir", help="project folder")
    p.add_argument("slides", nargs="+", metavar="SLIDE", help="slide files")
    p.add_argument(
        "--mpp",
        type=_positive_float,
        default=None,
        metavar="UM",
        help="level-0 µm/px override for these slides (when the files have none)",
    )
    add_progress_arg(p)
    p.set_defaults(func=run_add)
    p = verbs.add_parser("add-run", help="record `pathscaat infer` outputs as runs of their slides")
    p.add_argument("dir", help="project folder")
    p.add_argument("outputs", nargs="+", metavar="OUT", help="folders holding overlays.json")
    p.set_defaults(func=run_add_run)
    p = verbs.add_parser("list", help="slides, annotation counts per class, models, runs")
    p.add_argument("dir", help="project folder")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--read-only", action="store_true",
                   help="open without writing (a damaged project: copy out what is left)")
    p.set_defaults(func=run_list)
    p = verbs.add_parser("relink", help="find moved slides under folders (size + quick hash)")
    p.add_argument("dir", help="project folder")
    p.add_argument("folders", nargs="+", metavar="FOLDER", help="folders to search")
    p.set_defaults(func=run_relink)
    p = verbs.add_parser("export", help="each slide's annotations to a file")
    p.add_argument("dir", help="project folder")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--format",
        choices=("geojson", "asap", "csv"),
        default="geojson",
        help="QuPath GeoJSON (default), ASAP XML or a CSV of vertices",
    )
    p.add_argument("--read-only", action="store_true",
                   help="open without writing (a damaged project: copy out what is left)")
    add_progress_arg(p)
    p.set_defaults(func=run_export)


def _open_writable(folder: str) -> Project:
    project = Project.open(folder)
    if project.read_only:
        notice = project.notice
        project.close()
        raise PathscaatError(f"{notice} Nothing was changed.")
    return project


def run_init(args: argparse.Namespace) -> int:
    with Project.create(args.dir) as project:
        print(f"new project: {project.root}")
    return 0


def run_add(args: argparse.Namespace) -> int:
    failed = 0
    with _open_writable(args.dir) as project, progress_job(args.progress) as (printer, stop):
        added = []
        for i, path in enumerate(args.slides):
            if stop():
                break
            printer(ProgressRecord("add slides", i, len(args.slides), Path(path).name))
            try:
                record, new = project.add_slide(path, mpp_override=args.mpp)
            except ProjectDamagedError:
                raise  # the store, not this slide: no use trying the next one
            except (PathscaatError, SlideError) as exc:
                print(f"pathscaat: error: {exc}", file=sys.stderr)
                failed += 1
                continue
            added.append({"id": record.id, "path": str(record.path), "new": new})
        printer(ProgressRecord("add slides", len(args.slides), len(args.slides)))
        printer.result(
            [
                f"{'added' if a['new'] else 'already in the project'}: [{a['id']}] {a['path']}"
                for a in added
            ],
            slides=added,
            failed=failed,
        )
    return 1 if failed else 0


def run_add_run(args: argparse.Namespace) -> int:
    with _open_writable(args.dir) as project:
        for out in args.outputs:
            run_id = project.add_inference(out)
            print(f"run [{run_id}]: {out}")
    return 0


def summary(project: Project) -> dict[str, Any]:
    """What ``list`` reports, as JSON-able values."""
    counts = project.annotation_counts()
    slides = [
        {
            "id": s.id,
            "path": str(s.path),
            "found": s.found,
            "mpp_override": s.mpp_override,
            "size_px": [s.width_px, s.height_px],
            "annotations": {name or "": n for name, n in counts.get(s.id, {}).items()},
        }
        for s in project.slides()
    ]
    return {
        "project": str(project.root),
        "read_only": project.notice,
        "slides": slides,
        "classes": [{"name": c.name, "colour": list(c.colour)} for c in project.classes()],
        "models": [
            {
                "id": m.id,
                "name": m.name,
                "checkpoint": str(m.checkpoint),
                "backbone": m.backbone,
                "objective": m.objective,
                "metrics": m.metrics,
            }
            for m in project.models()
        ],
        "runs": [
            {
                "id": r.id,
                "slide_id": r.slide_id,
                "model_id": r.model_id,
                "output_dir": str(r.output_dir),
                "created_at": r.created_at,
                "scale": _scale_text(r.params),
            }
            for r in project.runs()
        ],
    }


def _scale_text(params: dict[str, Any]) -> str:
    """The scale a run recorded (runs recorded before scale records say so)."""
    scale = params.get("scale")
    if isinstance(scale, dict) and scale.get("text"):
        return str(scale["text"])
    return "not recorded (the run predates scale records)"


def _slide_lines(slide: dict[str, Any]) -> list[str]:
    width, height = slide["size_px"]
    mpp = f", {slide['mpp_override']:g} µm/px (override)" if slide["mpp_override"] else ""
    missing = "" if slide["found"] else "   MISSING: `pathscaat project relink DIR FOLDER`"
    counts = slide["annotations"]
    per_class = ", ".join(f"{name or 'unclassified'} {n}" for name, n in counts.items())
    return [
        f"  [{slide['id']}] {slide['path']} ({width} x {height} px{mpp}){missing}",
        f"      annotations: {sum(counts.values())}" + (f" ({per_class})" if counts else ""),
    ]


def _text(info: dict[str, Any]) -> str:
    lines = [f"project: {info['project']}"]
    if info["read_only"]:
        lines.append(f"note:    {info['read_only']}")
    lines.append(f"slides:  {len(info['slides'])}")
    for slide in info["slides"]:
        lines += _slide_lines(slide)
    lines.append("classes: " + (", ".join(c["name"] for c in info["classes"]) or "none"))
    lines.append(f"models:  {len(info['models'])}")
    lines += [
        f"  [{m['id']}] {m['name']} ({m['backbone']}, {m['objective']}) "
        + " ".join(f"{k}={v}" for k, v in m["metrics"].items() if isinstance(v, (int, float)))
        for m in info["models"]
    ]
    lines.append(f"runs:    {len(info['runs'])}")
    for r in info["runs"]:
        lines.append(
            f"  [{r['id']}] slide {r['slide_id']}, model {r['model_id']}: {r['output_dir']}"
        )
        lines.append(f"      scale: {r['scale']}")
    return "\n".join(lines)


def run_list(args: argparse.Namespace) -> int:
    with Project.open(args.dir, read_only=args.read_only) as project:
        info = summary(project)
    print(json.dumps(info, indent=2) if args.json else _text(info))
    return 0


def run_relink(args: argparse.Namespace) -> int:
    with _open_writable(args.dir) as project:
        moved = project.relink(args.folders)
        missing = [s for s in project.slides() if not s.found]
    for slide_id, path in moved.items():
        print(f"relinked: [{slide_id}] {path}")
    for slide in missing:
        print(f"still missing: [{slide.id}] {slide.path}", file=sys.stderr)
    return 1 if missing else 0


def run_export(args: argparse.Namespace) -> int:
    from pathscaat.project.export import export_annotations

    with (
        Project.open(args.dir, read_only=args.read_only) as project,
        progress_job(args.progress) as (printer, stop),
    ):
        result = export_annotations(
            project, args.out, args.format, on_progress=printer, should_stop=stop
        )
        lines = [f"wrote {len(result.written)} file(s) to {args.out}"]
        if result.empty:
            lines.append(f"no annotations (no file): {', '.join(result.empty)}")
        printer.result(lines, written=[str(p) for p in result.written], empty=result.empty)
    return 0
