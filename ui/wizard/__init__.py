"""The training wizard (Analysis > Train a Model…): one module a page, a run controller,
the live-curves widget and the saliency strip. Training runs as ``pathscaat train --config``
in a child process; nothing here trains."""

from ui.wizard.wizard import TrainingWizard

__all__ = ["TrainingWizard"]
