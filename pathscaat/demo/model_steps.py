"""Demo steps on a model: patches with evidence masks, ERM and SCAAT training, evaluation
of both, and the SCAAT model run over the synthetic slide."""

from __future__ import annotations

from pathscaat.demo.profile import SYNTHETIC_MPP
from pathscaat.demo.state import OBJECTIVES, DemoState
from pathscaat.progress import OnProgress, ShouldStop, never_stop, no_progress

SALIENCY = "vanilla"
"""The saliency method the demo evaluates and draws over the slide (SCAAT's own guidance)."""


def make_patches(
    state: DemoState, on_progress: OnProgress = no_progress, should_stop: ShouldStop = never_stop
) -> None:
    """A synthetic patch set (benign / atypical / inflamed) with evidence masks."""
    from pathscaat.data.synthetic import write_patch_set

    p = state.profile
    state.patches = write_patch_set(
        state.out_dir / "patches", p.per_class, p.patch_px, seed=state.seed,
        on_progress=on_progress,
    )  # fmt: skip


def train_models(
    state: DemoState, on_progress: OnProgress = no_progress, should_stop: ShouldStop = never_stop
) -> None:
    """ERM, then SCAAT: the same backbone, data, split, schedule and seed; one call each."""
    from pathscaat.training import ScaatConfig, TrainConfig, train

    assert state.patches is not None, "make_patches first"
    p = state.profile
    for objective in OBJECTIVES:
        config = TrainConfig(
            data=state.patches, backbone=p.backbone, out=state.out_dir / "models" / objective,
            scaat=ScaatConfig.for_objective(objective), epochs=p.epochs,
            batch_size=p.batch_size, lr=p.lr, img_size=p.input_px, device="cpu",
            seed=state.seed, workers=0, val_fraction=0.15, test_fraction=0.25,
            mpp=SYNTHETIC_MPP,  # the patches'; the checkpoint records p.model_mpp
        )  # fmt: skip
        state.runs[objective] = train(
            config, _tagged(on_progress, objective), should_stop=should_stop
        )


def _tagged(on_progress: OnProgress, tag: str) -> OnProgress:
    """Progress records with the model's name in the stage (one bar per model)."""
    from dataclasses import replace

    from pathscaat.progress import ProgressRecord

    def forward(rec: ProgressRecord) -> None:
        on_progress(replace(rec, stage=f"{tag} {rec.stage}"))

    return forward


def evaluate_models(
    state: DemoState, on_progress: OnProgress = no_progress, should_stop: ShouldStop = never_stop
) -> None:
    """Accuracy and vanilla-gradient saliency quality of both models on held-out patches."""
    from pathscaat.evaluation import EvalSettings, evaluate

    assert state.patches is not None and state.runs, "train_models first"
    p = state.profile
    settings = EvalSettings(sanity_images=p.sanity_images, sanity_checkpoints=2, batch_size=64)
    state.evaluation = evaluate(
        [state.checkpoint(o) for o in OBJECTIVES], state.patches, (SALIENCY,),
        state.out_dir / "evaluation", max_images=p.eval_images, device="cpu",
        settings=settings, grid_images=6, on_progress=on_progress, should_stop=should_stop,
    )  # fmt: skip


def infer_slide(
    state: DemoState, on_progress: OnProgress = no_progress, should_stop: ShouldStop = never_stop
) -> None:
    """The SCAAT model over the slide's tissue: class heatmaps and stitched saliency."""
    from pathscaat.inference.predict import predict_slide

    assert state.slide is not None and state.runs, "make_slide and train_models first"
    state.overlays = predict_slide(
        state.slide, state.checkpoint("scaat"), state.inference_dir, saliency=SALIENCY,
        device="cpu", batch_size=state.profile.infer_batch, workers=1,
        on_progress=on_progress, should_stop=should_stop,
    )  # fmt: skip
