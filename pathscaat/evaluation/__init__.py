"""Saliency-quality evaluation (docs/evaluation.md): one call, a report and plots."""

from pathscaat.evaluation.model_eval import EvalSettings
from pathscaat.evaluation.report import COLUMNS, markdown_table, table_rows
from pathscaat.evaluation.run import DEFAULT_METHODS, EvalResult, evaluate

__all__ = [
    "COLUMNS",
    "DEFAULT_METHODS",
    "EvalResult",
    "EvalSettings",
    "evaluate",
    "markdown_table",
    "table_rows",
]
