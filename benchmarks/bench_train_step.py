"""Seconds per training step of ERM, SGT, SCAAT (1 attack step) and TRADES, same model/batch.

The spec's budget: SCAAT about three forward + three backward passes against ERM's one
each, i.e. SCAAT/ERM <= 3.0. Ratios are measured in the same run on the same device.

    python benchmarks/bench_train_step.py --quick --threads 1   # small model, CPU
    python benchmarks/bench_train_step.py --models lite0 --threads 1 --batch-size 32
    python benchmarks/bench_train_step.py --device cuda          # + resnet18, ViT-S at 224 px

Models run in the trainer's memory layout (channels-last), as training does.

On a shared CPU use one thread: other processes then disturb every objective alike.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from pathscaat.models import create_model
from pathscaat.models.device import resolve_device
from pathscaat.training import ScaatConfig, objective_loss

OBJECTIVES = ("erm", "sgt", "scaat", "trades")
MODELS = {  # name: (backbone, px)
    "small": ("resnet10t", 64),
    "lite0": ("tf_efficientnet_lite0", 96),
    "resnet18": ("resnet18", 224),
    "vit": ("vit_small_patch16_224", 224),
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _Stepper:
    """One model, optimiser and objective; ``step()`` times one optimiser step."""

    def __init__(self, backbone: str, px: int, objective: str, batch: int, device: torch.device):
        torch.manual_seed(0)
        self.device = device
        self.model = create_model(backbone, 8).to(device).train()
        self.model.to(memory_format=torch.channels_last)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-4)
        self.x = torch.rand(batch, 3, px, px, device=device)
        self.x = self.x.contiguous(memory_format=torch.channels_last)
        self.y = torch.randint(0, 8, (batch,), device=device)
        self.cfg = ScaatConfig.for_objective(objective, steps=1)

    def step(self) -> float:
        amp = torch.autocast(
            self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"
        )
        _sync(self.device)
        t0 = time.perf_counter()
        with amp:
            out = objective_loss(self.model, self.x, self.y, self.cfg)
        self.opt.zero_grad(set_to_none=True)
        out.loss.backward()
        self.opt.step()
        _sync(self.device)
        return time.perf_counter() - t0


def step_seconds(
    backbone: str, px: int, batch: int, device: torch.device, repeats: int
) -> dict[str, float]:
    """Best (minimum) seconds per step of each objective, interleaved rounds, 2 warm-ups.

    Interleaving makes background load hit every objective alike, and the minimum over
    rounds is the least disturbed by other processes (the ratios are the point).
    """
    steppers = {o: _Stepper(backbone, px, o, batch, device) for o in OBJECTIVES}
    times: dict[str, list[float]] = {o: [] for o in OBJECTIVES}
    for i in range(repeats + 2):
        for o, stepper in steppers.items():
            t = stepper.step()
            if i >= 2:
                times[o].append(t)
    return {o: min(v) for o, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small model only")
    parser.add_argument("--models", nargs="+", choices=tuple(MODELS), help="models to time")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=None, help="default 32 GPU, 8 CPU")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    batch = args.batch_size or (32 if device.type == "cuda" else 8)
    names = args.models or (["small"] if args.quick else list(MODELS))
    print(
        f"device {device}, batch {batch}, threads {torch.get_num_threads()}, "
        f"best of {args.repeats} steps"
    )
    print(
        f"{'model':<24}{'px':>5}"
        + "".join(f"{o:>10}" for o in OBJECTIVES)
        + f"{'SGT/ERM':>9}{'SCAAT/ERM':>11}{'TRADES/ERM':>12}"
    )
    for name in names:
        backbone, px = MODELS[name]
        secs = step_seconds(backbone, px, batch, device, args.repeats)
        ratio = {o: secs[o] / secs["erm"] for o in OBJECTIVES}
        print(
            f"{backbone:<24}{px:>5}"
            + "".join(f"{secs[o]:>10.4f}" for o in OBJECTIVES)
            + f"{ratio['sgt']:>9.2f}{ratio['scaat']:>11.2f}{ratio['trades']:>12.2f}"
        )
        verdict = "OK" if ratio["scaat"] <= 3.0 else "OVER"
        print(f"  SCAAT/ERM {ratio['scaat']:.2f} against the 3.0 budget: {verdict}")


if __name__ == "__main__":
    main()
