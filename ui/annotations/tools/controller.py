"""The active tool: receives the viewer's mouse events and Esc/Enter/Backspace."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QMouseEvent, QShortcut

from ui.annotations.tools.base import Tool, ToolContext
from ui.annotations.tools.brush import BrushTool
from ui.annotations.tools.ellipse import EllipseTool
from ui.annotations.tools.move import MoveTool
from ui.annotations.tools.points import PointsTool
from ui.annotations.tools.polygon import PolygonTool
from ui.annotations.tools.rectangle import RectangleTool

TOOL_CLASSES: tuple[type[Tool], ...] = (
    MoveTool, RectangleTool, EllipseTool, PolygonTool, BrushTool, PointsTool,
)  # fmt: skip
TOOL_KEYS = {"move": "V", "rectangle": "R", "ellipse": "O", "polygon": "P", "brush": "B",
             "points": "."}  # fmt: skip
"""QuPath's keys for its drawing tools."""


class ToolController(QObject):
    """Owns one instance of each tool and forwards the viewer's mouse to the active one."""

    sigToolChanged = Signal(str)

    def __init__(self, ctx: ToolContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.tools: dict[str, Tool] = {cls.name: cls(ctx) for cls in TOOL_CLASSES}
        self.active: Tool = self.tools["move"]
        self.active.activate()
        ctx.viewer.set_mouse_handler(self)
        keys = {Qt.Key.Key_Escape: self.cancel, Qt.Key.Key_Return: self.finish,
                Qt.Key.Key_Enter: self.finish, Qt.Key.Key_Backspace: self.undo_vertex}
        self._shortcuts = []
        for key, slot in keys.items():
            sc = QShortcut(QKeySequence(key), ctx.viewer)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
            self._shortcuts.append(sc)

    def set_tool(self, name: str) -> None:
        """Make ``name`` (a key of :attr:`tools`) the active tool."""
        tool = self.tools[name]
        if tool is self.active:
            return
        self.active.deactivate()
        self.active = tool
        tool.activate()
        self.ctx.viewer.setCursor(tool.cursor)
        self.sigToolChanged.emit(name)

    def mouse_event(self, kind: str, l0_x: float, l0_y: float, event: QMouseEvent) -> bool:
        """The viewer's hook (see ``SlideViewer.set_mouse_handler``)."""
        if self.ctx.collection is None:
            return False
        handler = {"press": self.active.press, "move": self.active.move,
                   "release": self.active.release, "double": self.active.double}[kind]
        return handler(l0_x, l0_y, event)

    def cancel(self) -> None:
        """Esc: drop the gesture in progress, else clear the selection."""
        if not self.active.cancel() and self.ctx.collection is not None:
            self.ctx.collection.clear_selection()

    def finish(self) -> None:
        self.active.finish()

    def undo_vertex(self) -> None:
        undo = getattr(self.active, "undo_vertex", None)
        if undo is not None:
            undo()
