"""DDP on CPU (gloo, 2 processes): SCAAT's several forwards per step keep ranks in sync."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from pathscaat.models import create_model
from tests.core.tiny_kather import write_tiny_kather

WORLD = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, port: int, data: str, out: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
        WORLD_SIZE=str(WORLD), LOCAL_RANK=str(rank), HF_HUB_OFFLINE="1",
    )  # fmt: skip
    torch.set_num_threads(1)
    from pathscaat.data.augment import Augment
    from pathscaat.data.loader import make_loader
    from pathscaat.data.patch_folder import PatchFolder
    from pathscaat.models import create_model
    from pathscaat.training import ScaatConfig, TrainConfig, objective_loss, train
    from pathscaat.training import distributed as ddp

    device = torch.device("cpu")
    info = ddp.init_distributed(device)
    torch.manual_seed(rank)  # different init per rank: DDP must broadcast rank 0's
    model = create_model("test_resnet", 3)
    wrapped = ddp.wrap_model(model, info, device)
    ds = PatchFolder(data, transform=Augment(32, train=True))
    loader = make_loader(ds, 4, shuffle=True, sampler=ddp.make_sampler(ds, info, True, 0))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    cfg = ScaatConfig.for_objective("scaat", eps=8 / 255)
    for step, batch in enumerate(loader):
        res = objective_loss(wrapped, batch["image"], batch["label"], cfg, attack_model=model)
        opt.zero_grad()
        res.loss.backward()
        opt.step()
        if step == 2:
            break
    save_file(model.state_dict(), os.path.join(out, f"rank{rank}.safetensors"))
    config = TrainConfig(
        data=Path(data), backbone="test_resnet", out=Path(out) / "run", epochs=1,
        batch_size=8, img_size=32, device="cpu", val_fraction=0.25, test_fraction=0.0,
    )  # fmt: skip
    train(config)  # joins the same group, shuts it down at the end


@pytest.mark.slow
def test_two_cpu_ranks_end_with_identical_weights(kather_mini: Path, tmp_path: Path) -> None:
    data = write_tiny_kather(kather_mini, tmp_path / "data", per_class=8, px=32)
    mp.spawn(_worker, args=(_free_port(), str(data), str(tmp_path)), nprocs=WORLD, join=True)
    a = load_file(str(tmp_path / "rank0.safetensors"))
    b = load_file(str(tmp_path / "rank1.safetensors"))
    torch.manual_seed(0)
    init = create_model("test_resnet", 3)
    params = [name for name, _ in init.named_parameters()]
    assert params and a.keys() == b.keys()
    # parameters are all-reduced every step; BN running stats are per rank until DDP
    # broadcasts rank 0's at the next forward (and rank 0 writes the checkpoints)
    for key in params:
        assert torch.equal(a[key], b[key]), key
    assert not torch.equal(a["backbone.fc.weight"], init.state_dict()["backbone.fc.weight"])
    run = tmp_path / "run"
    assert (run / "last.safetensors").is_file() and (run / "best.json").is_file()
    assert not list(run.glob("*.tmp"))


if __name__ == "__main__":
    pytest.main([__file__])
