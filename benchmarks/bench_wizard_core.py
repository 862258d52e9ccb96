"""What the wizard's core adds to a training run: the data scan and the saliency strips.

Times, in the same process on the same data and device: one training epoch (strips off),
the scan every run makes first (each image decoded once), and one strip write (a batched
forward + backward on ``strip_count`` patches, once per epoch). Prints each as a ratio to
the epoch: the run with strips every epoch costs ``1 + strip/epoch`` of the run without.

    python benchmarks/bench_wizard_core.py --quick            # kather-crc-mini, resnet10t, 64 px
    python benchmarks/bench_wizard_core.py --device cuda      # kather2016, resnet18, 224 px
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from pathscaat.data.patch_folder import PatchFolder
from pathscaat.data.sources import DataSource, scan_sources
from pathscaat.models.device import resolve_device
from pathscaat.training import ScaatConfig, TrainConfig, train
from pathscaat.training.strip import SaliencyStrip
from pathscaat.training.trainer import build_model

SHARED = Path(os.environ.get("PATHSCAAT_SHARED_DATA", Path(__file__).parents[1] / "../shared/data"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, model and input")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (shared machines: 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = SHARED / "patches" / ("kather-crc-mini" if args.quick else "kather2016-crc-texture")
    backbone, px, batch = ("resnet10t", 64, 16) if args.quick else ("resnet18", 224, 64)
    with tempfile.TemporaryDirectory() as tmp:
        config = TrainConfig(
            data=data, backbone=backbone, img_size=px, batch_size=batch, epochs=1,
            device=args.device, out=Path(tmp) / "run", strip_every=0, workers=0,
            scaat=ScaatConfig.for_objective("scaat"), lr=1e-3,
        )  # fmt: skip
        start = time.perf_counter()
        scan_sources([DataSource("folder", data)])
        scan_s = time.perf_counter() - start
        start = time.perf_counter()
        train(config)
        run_s = time.perf_counter() - start
        device = resolve_device(args.device)
        model, _ = build_model(config, len(PatchFolder(data).classes))
        model.to(device)
        strip = SaliencyStrip(PatchFolder(data), px, config.strip_count, Path(tmp) / "strips")
        strip.write(model, 0, device)  # warm-up
        start = time.perf_counter()
        for epoch in range(1, 4):
            strip.write(model, epoch, device)
        strip_s = (time.perf_counter() - start) / 3
    print(f"data: {data.name}, {backbone} at {px} px, batch {batch}, device {device}")
    print(f"one run of 1 epoch (scan, split, train, validate, save): {run_s:.2f} s")
    print(f"scan of the data (in that run):  {scan_s:.3f} s = {scan_s / run_s:.3f} of the run")
    share = strip_s / run_s
    print(f"one strip of {config.strip_count} patches: {strip_s:.3f} s = {share:.4f} of the run")
    print(f"with a strip every epoch a run costs {1 + share:.3f}x the run without")


if __name__ == "__main__":
    main()
