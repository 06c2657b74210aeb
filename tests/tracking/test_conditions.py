"""The audit's image conditions: each a known transform of a real frame."""

from __future__ import annotations

import numpy as np
import pytest

from sim.tracking import conditions as C
from tests.tracking.conftest import TEST_VIDEO, need_file


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    """Frame 40 of the real hand video (a hand in view), BGR uint8."""
    cv2 = pytest.importorskip("cv2", reason="OpenCV (opencv-contrib-python) is not installed")
    cap = cv2.VideoCapture(str(need_file(TEST_VIDEO)))
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, 40)
        ok, img = cap.read()
    finally:
        cap.release()
    assert ok, f"{TEST_VIDEO}: could not read frame 40"
    return np.asarray(img)


def _linear(frame: np.ndarray) -> np.ndarray:
    return (frame.astype(np.float64) / 255.0) ** C.PARAMS.gamma


def test_every_condition_keeps_shape_and_type(frame: np.ndarray) -> None:
    assert list(C.CONDITIONS)[:2] == ["original", "mirrored"]
    assert set(C.DESCRIPTIONS) == set(C.CONDITIONS)
    for name in C.CONDITIONS:
        out = C.apply(name, frame, 3)
        assert out.shape == frame.shape and out.dtype == np.uint8, name
        assert out is not frame
        assert np.array_equal(out, C.apply(name, frame, 3)), f"{name} is not deterministic"


def test_original_is_the_frame(frame: np.ndarray) -> None:
    assert np.array_equal(C.original(frame), frame)


def test_mirrored_flips_and_twice_is_identity(frame: np.ndarray) -> None:
    m = C.mirrored(frame)
    assert np.array_equal(m[:, 0], frame[:, -1])
    assert not np.array_equal(m, frame)
    assert np.array_equal(C.mirrored(m), frame)


def test_dim_is_a_quarter_of_the_linear_light(frame: np.ndarray) -> None:
    d = C.dim(frame)
    ratio = _linear(d).mean() / _linear(frame).mean()
    assert ratio == pytest.approx(0.25, abs=0.01)
    # in encoded values: a factor 0.25 ** (1 / 2.2) = 0.533
    assert d.mean() / frame.mean() == pytest.approx(0.25 ** (1 / 2.2), abs=0.01)


def test_backlit_darkens_mid_tones_and_blows_highlights(frame: np.ndarray) -> None:
    b = C.backlit(frame).astype(int)
    f = frame.astype(int)
    mid = (f > 60) & (f < 160)
    assert (b[mid] < f[mid]).all()
    high = f > 0.8 * 255
    assert (b[high] == 255).all()
    ramp = np.arange(256, dtype=np.uint8).reshape(1, 256, 1).repeat(3, axis=2)
    out = C.backlit(ramp)[0, :, 0].astype(int)
    assert (np.diff(out) >= 0).all(), "the tone curve must be monotone"
    cross = round(255 * C.PARAMS.backlit_gain ** (-1 / (C.PARAMS.backlit_power - 1)))
    assert (out[: cross - 2] <= np.arange(cross - 2)).all()
    assert (out[cross + 2 :] >= np.arange(cross + 2, 256)).all()


def test_low_contrast_keeps_the_mean_and_cuts_the_spread(frame: np.ndarray) -> None:
    lo = C.low_contrast(frame)
    y0, y1 = C.luminance(frame), C.luminance(lo)
    assert y1.mean() == pytest.approx(y0.mean(), abs=0.5)
    assert y1.std() / y0.std() == pytest.approx(C.PARAMS.contrast, abs=0.01)


def _laplacian_var(frame: np.ndarray) -> float:
    import cv2

    return float(cv2.Laplacian(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def test_blur_lowers_the_laplacian_variance_along_its_direction(frame: np.ndarray) -> None:
    b = C.blur(frame)
    assert _laplacian_var(b) < 0.5 * _laplacian_var(frame)
    # a horizontal streak: detail (second differences) along x goes far more than along y
    g0 = frame.astype(float).mean(axis=2)
    g1 = b.astype(float).mean(axis=2)

    def detail(g: np.ndarray, axis: int) -> float:
        return float((np.diff(g, n=2, axis=axis) ** 2).mean())

    assert detail(g1, 1) / detail(g0, 1) < 0.5 * detail(g1, 0) / detail(g0, 0)
    k = C.motion_kernel(15, 90.0)
    assert k.sum() == pytest.approx(1.0) and (k[:, 7] > 0).sum() == 15


def _energy_above(gray: np.ndarray, cycles_per_px: float) -> float:
    """Share of the frame's spectral energy above ``cycles_per_px`` on either axis (Hann
    window, so that the frame's edges do not count as detail)."""
    win = np.hanning(gray.shape[0])[:, None] * np.hanning(gray.shape[1])[None, :]
    spec = np.abs(np.fft.fft2((gray - gray.mean()) * win)) ** 2
    fy = np.abs(np.fft.fftfreq(gray.shape[0]))[:, None]
    fx = np.abs(np.fft.fftfreq(gray.shape[1]))[None, :]
    return float(spec[(fx > cycles_per_px) | (fy > cycles_per_px)].sum() / spec.sum())


def test_low_resolution_has_no_detail_above_its_nyquist(frame: np.ndarray) -> None:
    lo = C.low_resolution(frame)
    h = frame.shape[0]
    nyq = 0.5 * C.PARAMS.low_resolution_px / h  # cycles per pixel of the full frame
    e0 = _energy_above(frame.astype(float).mean(axis=2), nyq)
    e1 = _energy_above(lo.astype(float).mean(axis=2), nyq)
    assert e0 > 1e-4, "the real frame has detail above 320x180's Nyquist"
    # what is left there is bilinear upsampling's images of lower frequencies (16 % here)
    assert e1 < 0.25 * e0


def test_noise_has_the_set_sd_and_a_seed_per_frame(frame: np.ndarray) -> None:
    n = C.noise(frame, 5).astype(float) - frame
    inner = (frame > 40) & (frame < 215)  # away from clipping
    assert n[inner].std() == pytest.approx(C.PARAMS.noise_sd, rel=0.02)
    assert abs(n[inner].mean()) < 0.2
    assert not np.array_equal(C.noise(frame, 5), C.noise(frame, 6))


@pytest.mark.parametrize(("name", "red", "blue"), [("warm", 1, -1), ("cool", -1, 1)])
def test_white_balance_shifts_red_and_blue(
    frame: np.ndarray, name: str, red: int, blue: int
) -> None:
    out = C.apply(name, frame).astype(float).mean(axis=(0, 1))
    ref = frame.astype(float).mean(axis=(0, 1))
    b, g, r = out - ref
    assert np.sign(r) == red and np.sign(b) == blue
    assert g == pytest.approx(0.0, abs=1e-9)
    assert abs(r) > 0.1 * ref[2]
