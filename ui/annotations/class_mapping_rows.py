"""The Make Regions dialog's class mapping: one 'model class -> project class' choice per
class of the model, so regions arrive in the project's own classes rather than the names
the model was trained with. The choices start from the map remembered for this model
(else the core's suggestion, :func:`~pathscaat.annotations.class_map.suggest_class_map`),
and the map accepted with is handed back to be remembered. Split from
:mod:`ui.annotations.regions_dialog`, which keeps the threshold, preview and list."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel

from pathscaat.annotations.class_map import ClassMap, suggest_class_map

KEEP_MODEL_NAME = "(the model's name)"


class ClassMappingRows:
    """The choices, added as rows of the dialog's form (none without project classes)."""

    def __init__(
        self, model_classes: list[str], project_classes: list[str], remembered: ClassMap,
        on_remember: Callable[[ClassMap], None] | None = None,
    ) -> None:  # fmt: skip
        """``remembered`` is this model's map from last time; ``on_remember`` is told the
        map the user accepted with."""
        self.model_classes = list(model_classes)
        self.project_classes = list(project_classes)
        self._remembered = dict(remembered)
        self._on_remember = on_remember
        self.boxes: dict[str, QComboBox] = {}

    def add_rows(self, form: QFormLayout, on_change: Callable[[str], None]) -> dict[str, QComboBox]:
        """A title and one choice per model class; ``on_change`` runs when one changes.
        Nothing is added without project classes to map to, or model classes to map."""
        if not self.project_classes or not self.model_classes:
            return self.boxes
        title = QLabel("<b>Classes</b> (the model's → this project's; remembered for "
                       "this model)")
        title.setWordWrap(True)
        form.addRow(title)
        start = suggest_class_map(self.model_classes, self.project_classes, self._remembered)
        for name in self.model_classes:
            box = QComboBox()
            box.addItems([KEEP_MODEL_NAME, *self.project_classes])
            box.setCurrentText(start.get(name, KEEP_MODEL_NAME))
            box.setToolTip(f"Regions of the model's class {name} become this class")
            box.currentTextChanged.connect(on_change)
            form.addRow(f"{name}:", box)
            self.boxes[name] = box
        return self.boxes

    def class_map(self) -> ClassMap:
        """The map the choices say (model class -> project class)."""
        return {name: box.currentText() for name, box in self.boxes.items()
                if box.currentText() != KEEP_MODEL_NAME}  # fmt: skip

    def remember(self, mapping: ClassMap) -> None:
        """Hand ``mapping`` (the one regions were accepted with) back to be remembered for
        this model; without choices shown there is nothing the user chose."""
        if self._on_remember is not None and self.boxes:
            self._on_remember(mapping)
