"""The renderer: size, camera presets, flags, and clear errors."""

import gymnasium as gym
import numpy as np
import pytest

from robrew.render import CameraSpec, Renderer


@pytest.fixture(scope="module")
def humanoid():
    env = gym.make("robrew/HumanoidPose-v0").unwrapped
    env.reset(seed=0)
    return env


def test_frames_are_uint8_hwc_and_cameras_differ(humanoid):
    side = Renderer(humanoid.model, 80, 60, CameraSpec(distance=4, azimuth=90, track_body="torso"))
    front = Renderer(humanoid.model, 80, 60, CameraSpec(distance=3.5, elevation=-10, azimuth=180, lookat=(0, 0, 1)))
    a, b = side.render(humanoid.data), front.render(humanoid.data)
    assert a.shape == (60, 80, 3) and a.dtype == np.uint8
    assert np.abs(a.astype(int) - b).mean() > 1.0
    out = np.zeros_like(a)
    assert side.render(humanoid.data, out=out) is out and np.array_equal(out, a)


def test_shadows_change_the_image(humanoid):
    cam = CameraSpec(distance=3.0, elevation=-30, azimuth=135, track_body="torso")
    plain = Renderer(humanoid.model, 64, 64, cam).render(humanoid.data)
    shaded = Renderer(humanoid.model, 64, 64, cam, shadows=True, reflections=True).render(humanoid.data)
    assert not np.array_equal(plain, shaded)


def test_bad_camera_and_size_fail_clearly(humanoid):
    with pytest.raises(ValueError, match="track_body 'tail'"):
        Renderer(humanoid.model, 32, 32, CameraSpec(track_body="tail"))
    with pytest.raises(ValueError, match="must be positive"):
        Renderer(humanoid.model, 0, 32)
    with pytest.raises(ValueError, match="unknown camera preset 'drone'"):
        gym.make("robrew/HumanoidPose-v0", camera="drone")


def test_large_frames_grow_the_offscreen_buffer(humanoid):
    frame = Renderer(humanoid.model, 1000, 700).render(humanoid.data)
    assert frame.shape == (700, 1000, 3)


def test_rendering_then_torch_does_not_crash(tmp_path):
    # Mesa's llvmpipe and triton both ship LLVM; render-then-torch segfaulted before the fix.
    import subprocess
    import sys

    code = (
        "import robrew, gymnasium as gym, robrew.envs\n"
        "env = gym.make('robrew/CartPole-v0', render_mode='rgb_array', width=32, height=32)\n"
        "env.reset(seed=0); env.render()\n"
        "import torch\n"
        "torch.optim.Adam([torch.nn.Parameter(torch.zeros(3))])\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", (out.returncode, out.stderr[-1500:])


def test_a_stock_env_rendered_first_then_clip_and_an_optimizer(tmp_path, tiny_clip_dir):
    # Any render order is safe: `import robrew` loads triton's LLVM before Mesa's (robrew.gl_order),
    # so a Gymnasium MuJoCo env that robrew did not write can render before torch builds anything.
    import subprocess
    import sys

    code = (
        "import robrew, gymnasium as gym\n"
        "env = gym.make('Pusher-v5', render_mode='rgb_array', width=32, height=32)\n"
        "env.reset(seed=0); frame = env.render(); env.close()\n"
        "assert frame.mean() > 0, 'black frame'\n"
        "import torch\n"
        "from robrew.rewards.clip import load_open_clip\n"
        f"clip, _ = load_open_clip('ViT-B-32', {str(tiny_clip_dir)!r}, 'cpu')\n"
        "torch.optim.AdamW(clip.parameters())\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", (out.returncode, out.stderr[-1500:])
