"""Annotation tools, one module each; :class:`ToolController` routes the viewer's mouse."""

from ui.annotations.tools.base import Tool, ToolContext
from ui.annotations.tools.controller import TOOL_KEYS, ToolController

__all__ = ["TOOL_KEYS", "Tool", "ToolContext", "ToolController"]
