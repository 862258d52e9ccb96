"""README, docs/ and the evaluation report point only at files a user's clone has."""

from __future__ import annotations

import re

import pytest

from pathscaat.evaluation.report import render_report
from tests.conftest import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_relative_links_resolve_inside_the_repository(doc) -> None:  # type: ignore[no-untyped-def]
    text = doc.read_text(encoding="utf-8")
    assert "shared/docs" not in text
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        path = (doc.parent / target).resolve()
        assert path.is_file(), f"{doc.name} links to {target}, which a clone lacks"
        assert REPO_ROOT in path.parents


def test_method_and_evaluation_docs_exist_where_the_report_sends_readers() -> None:
    metrics = {"data": "d", "settings": {"methods": []}, "models": []}
    report = render_report(metrics, [])
    assert "shared/docs" not in report and "docs/evaluation.md" in report
    assert (REPO_ROOT / "docs" / "evaluation.md").is_file()
    assert (REPO_ROOT / "docs" / "method.md").is_file()
