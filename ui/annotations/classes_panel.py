"""Classes panel: the class list with colour swatches; add, rename, recolour, remove.

The list is :class:`pathscaat.annotations.classes.ClassList` (the core owns the logic:
renaming re-classifies objects through one undoable edit); this panel draws it and asks.
The first nine classes carry their key (1-9 classify the selection); the highlighted
class is given to new annotations.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pathscaat.annotations.classes import ClassesEvent, ClassifyResult, ClassList, EditTarget
from pathscaat.annotations.model import RGB, PathClass
from pathscaat.progress import PathscaatError


def swatch(colour: RGB, size: int = 14) -> QIcon:
    """A square of the class colour with a thin dark border (visible on light and dark)."""
    pix = QPixmap(size, size)
    pix.fill(QColor(60, 60, 60))
    inner = QPixmap(size - 2, size - 2)
    inner.fill(QColor(*colour))
    painter = QPainter(pix)
    painter.drawPixmap(1, 1, inner)
    painter.end()
    return QIcon(pix)


class ClassesPanel(QWidget):
    """The class list; ``target()`` is the collection that renames and recolours edit."""

    sigCurrentChanged = Signal(object)  # PathClass | None

    def __init__(
        self,
        classes: ClassList,
        target: Callable[[], EditTarget | None],
        report: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.classes = classes
        self._target = target
        self._report = report
        self.list = QListWidget()
        self.list.setToolTip("Press 1-9 to give the selected annotations that class; "
                             "new annotations get the highlighted class")  # fmt: skip
        self.list.currentRowChanged.connect(lambda _r: self.sigCurrentChanged.emit(
            self.current_class()))  # fmt: skip
        self.list.itemDoubleClicked.connect(lambda _i: self.ask_rename())
        hint = QLabel("Keys 1-9 classify the selection. New shapes get the highlighted class.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        buttons = QHBoxLayout()
        for text, tip, slot in (
            ("Add…", "Add a class", self.ask_add),
            ("Rename…", "Rename the class (its annotations follow)", self.ask_rename),
            ("Colour…", "Change the class colour (its annotations follow)", self.ask_recolour),
            ("Remove", "Remove the class from the list (annotations keep it)", self.remove),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addWidget(hint)
        self._unsubscribe = classes.subscribe(self._on_change)
        self._fill()

    def current_class(self) -> PathClass | None:
        row = self.list.currentRow()
        return self.classes[row] if 0 <= row < len(self.classes) else None

    def _fill(self, keep: str | None = None) -> None:
        selected = self.current_class()
        current = keep or (selected.name if selected is not None else None)
        self.list.blockSignals(True)
        self.list.clear()
        for i, c in enumerate(self.classes):
            key = f"{i + 1}   " if i < 9 else "     "
            item = QListWidgetItem(swatch(c.colour), f"{key}{c.name}")
            item.setData(Qt.ItemDataRole.UserRole, c.name)
            item.setToolTip(f"{c.name}: RGB {c.colour}" + (f"; key {i + 1}" if i < 9 else ""))
            self.list.addItem(item)
            if c.name == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self.sigCurrentChanged.emit(self.current_class())

    def _on_change(self, event: ClassesEvent) -> None:
        self._fill(keep=event.name if event.kind in ("added", "renamed") else None)

    # -- commands (the buttons ask, then call these; tests call them directly) ---------
    def add(self, name: str, colour: RGB | None = None) -> PathClass | None:
        added = self._run(lambda: self.classes.add(name, colour))
        return added if isinstance(added, PathClass) else None

    def rename(self, old: str, new: str) -> None:
        self._note(self._run(lambda: self.classes.rename(old, new, self._target())))

    def recolour(self, name: str, colour: RGB) -> None:
        self._note(self._run(lambda: self.classes.recolour(name, colour, self._target())))

    def remove(self) -> None:
        current = self.current_class()
        if current is not None:
            self._run(lambda: self.classes.remove(current.name))

    def _run(self, fn: Callable[[], object]) -> object:
        try:
            return fn()
        except PathscaatError as exc:
            self._report(str(exc))
            return None

    def _note(self, result: object) -> None:
        if isinstance(result, ClassifyResult) and result.locked_skipped:
            n = result.locked_skipped
            self._report(f"{n} locked annotation{'s' * (n > 1)} kept the old class; unlock "
                         "them and classify again to change them too.")  # fmt: skip

    # -- dialogs ---------------------------------------------------------------------------
    def ask_add(self) -> None:
        name, ok = QInputDialog.getText(self, "Add Class", "Name of the new class:")
        if ok and name.strip():
            self.add(name)

    def ask_rename(self) -> None:
        current = self.current_class()
        if current is None:
            return
        name, ok = QInputDialog.getText(self, "Rename Class", "New name:", text=current.name)
        if ok and name.strip() and name.strip() != current.name:
            self.rename(current.name, name)

    def ask_recolour(self) -> None:
        current = self.current_class()
        if current is None:
            return
        colour = QColorDialog.getColor(QColor(*current.colour), self, f"Colour of {current.name}")
        if colour.isValid():
            self.recolour(current.name, (colour.red(), colour.green(), colour.blue()))
