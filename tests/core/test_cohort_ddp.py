"""Cohort inference across processes: two gloo ranks on CPU, ``--workers 2``, a killed run.

The two ranks are spawned with the environment torchrun would set (``env://`` init), and
each calls the same ``infer_cohort`` the CLI calls. Every slide must be processed exactly
once, the outputs must equal a single-process run, rank 0 alone merges the table, and a
truncated slide is a failed row while the others finish.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch.multiprocessing as mp

from tests.core.test_cohort import SETTINGS, Events, cohort, read_table, tile_probs

__all__ = ["cohort"]  # the session fixture, shared with test_cohort.py

WORLD = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rank(rank: int, port: int, slides: str, ckpt: str, out: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
        WORLD_SIZE=str(WORLD), LOCAL_RANK=str(rank), HF_HUB_OFFLINE="1",
    )  # fmt: skip
    import torch

    torch.set_num_threads(1)
    from pathscaat.inference.cohort_run import infer_cohort

    events: list[dict] = []
    result = infer_cohort(
        slides, ckpt, out, SETTINGS, on_progress=lambda rec: events.append(rec.to_dict())
    )
    summary = {"merged": result.merged, "world": result.world, "events": events}
    Path(out, f"rank{rank}.json").write_text(json.dumps(summary))


@pytest.fixture(scope="module")
def reference(cohort, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pathscaat.inference.cohort_run import infer_cohort

    slides, ckpt = cohort
    out = tmp_path_factory.mktemp("one-process")
    infer_cohort(slides, ckpt, out, SETTINGS)
    return out


@pytest.mark.slow
def test_two_gloo_ranks_each_slide_once_same_outputs_one_merge(
    cohort, reference: Path, tmp_path: Path
) -> None:
    slides, ckpt = cohort
    out = tmp_path / "out"
    mp.spawn(_rank, args=(_free_port(), str(slides), str(ckpt), str(out)), nprocs=WORLD)
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in range(WORLD)]
    assert [r["merged"] for r in ranks] == [True, False] and ranks[1]["world"] == WORLD
    done = [
        (e["extra"]["folder"], e["extra"]["outcome"], r)
        for r, rank in enumerate(ranks) for e in rank["events"] if e["stage"] == "cohort"
    ]  # fmt: skip
    folders = [d[0] for d in done]
    assert sorted(folders) == ["broken", "s0", "s1", "s2", "s3"]  # each exactly once
    assert {d[2] for d in done} == {0, 1}  # both ranks worked
    table, want = read_table(out), read_table(reference)
    assert table.keys() == want.keys()
    assert table["broken"]["status"] == "failed" and "truncated" in table["broken"]["error"]
    for name, row in table.items():
        assert row["status"] == want[name]["status"]
        assert int(row["rank"]) == next(d[2] for d in done if d[0] == name)
        if row["status"] == "done":
            np.testing.assert_allclose(tile_probs(out / name), tile_probs(reference / name),
                                       atol=1e-5)  # fmt: skip
            for col in row:
                if col.startswith(("frac_", "mean_prob_")):
                    assert float(row[col]) == pytest.approx(float(want[name][col]), abs=1e-5)


def _cli(slides: Path, ckpt: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "pathscaat.cli.main", "infer-cohort", "--slides", str(slides),
        "--model", str(ckpt), "--out", str(out), "--device", "cpu", "--batch-size", "8",
        "--read-threads", "1", "--progress", "json",
    ]  # fmt: skip


@pytest.mark.slow
def test_killed_run_resumed_with_two_workers_recomputes_nothing_finished(
    cohort, tmp_path: Path
) -> None:
    slides, ckpt = cohort
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(_cli(slides, ckpt, out), stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    finished = []
    for line in proc.stdout:
        event = json.loads(line)
        if event.get("stage") == "cohort" and event["extra"]["outcome"] == "computed":
            finished.append(event["extra"]["folder"])
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert finished and not (out / "cohort.csv").exists()
    stamp = (out / finished[0] / "overlays.json").stat().st_mtime_ns

    from pathscaat.inference.cohort_run import infer_cohort

    rerun = Events()  # the same call as the CLI's, with two spawned workers
    result = infer_cohort(slides, ckpt, out, SETTINGS, workers=2, on_progress=rerun)
    outcomes = rerun.outcomes()
    assert outcomes[finished[0]] == "resumed"
    assert sorted(outcomes) == ["broken", "s0", "s1", "s2", "s3"]
    assert [r.done for r in rerun.records if r.stage == "cohort"] == [1, 2, 3, 4, 5]
    assert (out / finished[0] / "overlays.json").stat().st_mtime_ns == stamp
    assert (result.shard.computed, result.shard.resumed, result.shard.failed) == (3, 1, 1)
    table = read_table(out)
    assert {name: row["status"] for name, row in table.items()} == {
        "broken": "failed", **{f"s{i}": "done" for i in range(4)}
    }
    assert {row["rank"] for name, row in table.items() if name != finished[0]} == {"0", "1"}


if __name__ == "__main__":
    pytest.main([__file__, *sys.argv[1:]])
