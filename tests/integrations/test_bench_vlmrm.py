"""scripts/bench_vlmrm.py on a tiny random local CLIP: the VLM-RM run's code path end to end, and
figures that can be checked (the model's parameter count, the replay buffer's size)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_vlmrm.py"


def test_measures_the_run_it_would_train(tiny_clip_dir, capsys):
    from safetensors.numpy import load_file

    spec = importlib.util.spec_from_file_location("bench_vlmrm", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    argv = ["--pretrained", str(tiny_clip_dir), "--device", "cpu", "--steps", "4", "--n-envs", "2"]
    result = bench.main([*argv, "--calls", "1", "--buffer-size", "1000"])
    weights = load_file(tiny_clip_dir / "open_clip_model.safetensors")
    expected = sum(v.size for k, v in weights.items() if k != "attn_mask")  # buffers are not parameters
    assert result["parameters"] == expected and result["parameter_bytes"] == 4 * expected  # fp32 on CPU
    assert result["replay_buffer_bytes"] == 1000 * (2 * 348 + 17 + 3) * 4  # humanoid obs 348, action 17
    assert result["scoring_frames_per_s"] > 0 and result["env_steps_per_s"] > 0 and result["peak_rss_bytes"] > 0
    assert result["peak_gpu_bytes"] is None and "10M steps in" in capsys.readouterr().out
