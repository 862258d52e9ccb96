"""Choose a checkpoint, device, saliency method, minimum tissue and output folder for a run.

The Scale row (:mod:`ui.dialogs.run_scale`) says the scale the model will read the slide at
and asks for the slide's µm/px when the model needs one the slide lacks.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.dialogs.folder_dialog import ask_output_folder
from ui.dialogs.run_scale import ScaleRow

SALIENCY_METHODS = (
    ("vanilla", "Vanilla gradient (fast)"),
    ("input_x_gradient", "Input × gradient"),
    ("smoothgrad", "SmoothGrad (slower, smoother)"),
    ("integrated_gradients", "Integrated gradients (slowest)"),
    ("gradcam", "Grad-CAM (coarse, class regions)"),
)
"""The methods of ``pathscaat.saliency.list_methods()``, with a word on each for the user."""

DEVICES = (("auto", "Automatic (GPU if available)"), ("cpu", "CPU"), ("cuda", "GPU (CUDA)"))


@dataclass(frozen=True)
class RunRequest:
    """What the user asked for: everything ``pathscaat infer`` needs."""

    slide: Path
    checkpoint: Path
    out: Path
    device: str
    saliency: str
    slide_mpp: float | None = None
    """µm/px the user set for the slide in the app (None: the file's own)."""
    slide_mpp_source: str = "user"
    """Who set ``slide_mpp``: ``user`` (this session) or ``project`` (saved override)."""
    min_tissue: float = 0.5
    """Tissue fraction a tile needs to be scored."""


def user_runs_dir() -> Path:
    """``runs/`` in the per-user data folder (e.g. ~/.local/share/PathSCAAT/pathscaat-gui)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return (Path(base) if base else Path.home() / ".pathscaat") / "runs"


def is_private_folder(folder: Path) -> bool:
    """True when ``folder`` is the user's own writable folder: not read-only, not shared.

    Shared means someone else owns it or others may write in it (a scanner's export
    share, a lab drive); results written there would clutter or overwrite theirs. The
    mode bits are checked too because a superuser passes every access check.
    """
    try:
        st = folder.stat()
    except OSError:
        return False
    if not os.access(folder, os.W_OK):
        return False
    if os.name == "posix":
        if st.st_uid != os.geteuid() or not st.st_mode & stat.S_IWUSR:
            return False
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
        try:
            if os.statvfs(folder).f_flag & os.ST_RDONLY:
                return False
        except OSError:
            return False
    return True


def default_output_dir(
    slide: Path, checkpoint: Path | None, root: str = "", project: Path | None = None
) -> Path:
    """Where a run's results go unless the user says otherwise.

    The chosen root (setting ``jobs/output_root``), else the open project's ``overlays/``,
    else next to the slide when that folder is the user's own, else the per-user runs
    folder (the name then carries a hash of the slide's path: two slides called the
    same in different folders never share a folder).
    """
    name = f"{slide.stem}-{checkpoint.stem if checkpoint else 'model'}-pathscaat"
    if root:
        return Path(root) / name
    if project is not None:
        return project / "overlays" / name
    if is_private_folder(slide.parent):
        return slide.parent / name
    digest = hashlib.sha1(str(slide.absolute()).encode()).hexdigest()[:6]
    return user_runs_dir() / f"{name}-{digest}"


def checkpoint_problem(path_text: str) -> str:
    """Why ``path_text`` is not a usable checkpoint ('' when it is)."""
    if not path_text.strip():
        return "Choose a checkpoint (.json or .safetensors) made by 'pathscaat train'."
    path = Path(path_text)
    if path.suffix not in (".json", ".safetensors"):
        return "A checkpoint is a .json or .safetensors file."
    stem = path.with_suffix("")
    missing = [s for s in (".json", ".safetensors") if not stem.with_suffix(s).is_file()]
    if missing:
        return f"{stem.name}{' and '.join(missing)} is missing next to it; both files are needed."
    return ""


class RunModelDialog(QDialog):
    """Form for one run; ``request()`` gives the answer after ``Accepted``."""

    def __init__(
        self,
        slide: Path,
        *,
        checkpoint: str = "",
        device: str = "auto",
        saliency: str = "vanilla",
        output_root: str = "",
        slide_mpp: Any = None,
        ask_mpp: Callable[[str], Any] | None = None,
        min_tissue: float = 0.5,
        project_output: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``slide_mpp`` is the open slide's ``Mpp`` (None: unknown); ``ask_mpp(reason)``
        asks the user for it and returns the new ``Mpp`` (None: cancelled).
        ``project_output``: the slide is in a project, which keeps its runs there; the
        dialog says so instead of offering an Output folder it would not use."""
        super().__init__(parent)
        self.setWindowTitle("Run Model on Slide")
        self.setMinimumWidth(560)
        self._slide = slide
        self._ask_mpp = ask_mpp
        self.scale = ScaleRow(slide.name, slide_mpp)
        self.scale.sigSetMpp.connect(self.set_slide_mpp)
        self.min_tissue = QSpinBox()
        self.min_tissue.setRange(0, 100)
        self.min_tissue.setSuffix(" % of a tile")
        self.min_tissue.setValue(round(min_tissue * 100))
        self.min_tissue.setToolTip(
            "Tiles with less tissue than this are not scored. Lower it for small biopsies, "
            "sparse tissue or a model whose tiles are large."
        )
        self._output_root = output_root
        self._project_output = project_output
        self._out_edited = False
        self.checkpoint_edit = QLineEdit(checkpoint)
        self.checkpoint_edit.setPlaceholderText("model.json or model.safetensors")
        self.device_combo = self._combo(DEVICES, device)
        self.saliency_combo = self._combo(SALIENCY_METHODS, saliency)
        self.out_edit = QLineEdit()
        self.out_edit.textEdited.connect(lambda _t: setattr(self, "_out_edited", True))
        self.problem = QLabel()
        self.problem.setObjectName("hint")
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Run")
        ok.setObjectName("primary")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self._form(slide))
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.checkpoint_edit.textChanged.connect(self._validate)
        self._validate()

    def _form(self, slide: Path) -> QFormLayout:
        browse_ckpt = QPushButton("Browse…")
        browse_ckpt.clicked.connect(self._browse_checkpoint)
        browse_out = QPushButton("Browse…")
        browse_out.clicked.connect(self._browse_output)
        form = QFormLayout()
        form.addRow("Slide:", QLabel(slide.name))
        form.addRow("Checkpoint:", self._row(self.checkpoint_edit, browse_ckpt))
        form.addRow("Scale:", self.scale)
        form.addRow("Device:", self.device_combo)
        form.addRow("Saliency:", self.saliency_combo)
        form.addRow("Minimum tissue:", self.min_tissue)
        if self._project_output is None:
            form.addRow("Output folder:", self._row(self.out_edit, browse_out))
        else:
            self.out_edit.setText(str(self._project_output))
            where = QLabel("In the project, with the slide's other runs")
            where.setObjectName("hint")
            where.setToolTip(str(self._project_output))
            form.addRow("Output:", where)
        return form

    def _combo(self, items: tuple[tuple[str, str], ...], current: str) -> QComboBox:
        combo = QComboBox()
        for key, label in items:
            combo.addItem(label, key)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        return combo

    def _row(self, edit: QLineEdit, button: QPushButton) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        row.addWidget(button)
        return box

    def _browse_checkpoint(self) -> None:
        start = self.checkpoint_edit.text() or str(self._slide.parent)
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a checkpoint", start, "Checkpoints (*.json *.safetensors)"
        )
        if path:
            self.checkpoint_edit.setText(path)

    def _browse_output(self) -> None:
        path = ask_output_folder(self, "Output folder", self.out_edit.text())
        if path:
            self.out_edit.setText(path)
            self._out_edited = True

    def set_slide_mpp(self) -> bool:
        """Ask for the slide's µm/px (the window's Set µm/px prompt); True once it is known."""
        if self._ask_mpp is None:
            return False
        mpp = self._ask_mpp(self.scale.reason())
        if mpp is not None:
            self.scale.set_slide_mpp(mpp)
        return not self.scale.needs_mpp

    def accept(self) -> None:
        """Run, after asking for the slide's µm/px when the model needs it."""
        if self.scale.needs_mpp and not self.set_slide_mpp():
            return  # the user cancelled the prompt: stay in the dialog
        super().accept()

    def _validate(self) -> None:
        text = self.checkpoint_edit.text()
        self.scale.set_checkpoint("" if checkpoint_problem(text) else text)
        problem = checkpoint_problem(text)
        self.problem.setText(problem)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not problem)
        if not self._out_edited and self._project_output is None:
            ckpt = Path(text) if text.strip() else None
            self.out_edit.setText(str(default_output_dir(self._slide, ckpt, self._output_root)))
            self.out_edit.setCursorPosition(0)

    def request(self) -> RunRequest:
        return RunRequest(
            slide=self._slide,
            checkpoint=Path(self.checkpoint_edit.text()),
            out=self._project_output or Path(self.out_edit.text()),
            device=str(self.device_combo.currentData()),
            saliency=str(self.saliency_combo.currentData()),
            min_tissue=self.min_tissue.value() / 100,
        )
