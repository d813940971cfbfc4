"""The current scene: which image, which noise, which seed — the shared sidebar.

The sidebar is drawn once per run by ``app.py`` before the page, so its
choices hold on every page; its main widgets are bound to the URL, so a
teacher can share a link to exactly what the class is looking at. Pages read
the scene with :func:`current`.

One image is in use at a time, and the sidebar says which. An upload, while
the uploader holds one, replaces the sample; picking a sample after that
clears the upload (Streamlit's uploader cannot be emptied from code, so its
key changes) and the sample is used. An upload that cannot be used leaves
the sample in use and is reported twice: in the sidebar beside the uploader,
and at the top of the page (:func:`show_messages`, which ``app.py`` calls
before the page runs).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass

import numpy as np
import streamlit as st

from denoisers import images, noise
from denoisers.core import digest
from denoisers.noise_level import NoiseFit, fit_noise_level

from . import links, memory
from .controls import spec_controls
from .text import plain

#: The longest side the site works at; set DDT_MAX_SIDE to change it.
MAX_SIDE = int(os.environ.get("DDT_MAX_SIDE", images.MAX_SIDE))
WORKING_SIDES = (tuple(s for s in (256, 384, 512, 768, 1024, 1536, 2048) if s < MAX_SIDE)
                 + (MAX_SIDE,))
DEFAULT_SIDE = 512 if 512 in WORKING_SIDES else WORKING_SIDES[-1]

#: How a scene's ``source`` begins for a visitor's upload.
UPLOAD_PREFIX = "upload: "

NOISE_LABELS = {
    "gaussian": "Gaussian",
    "poisson": "Poisson (photon counts)",
    "salt_pepper": "Salt and pepper",
    "poisson_gaussian": "A camera's (Poisson–Gaussian)",
    "correlated": "Grain over several pixels (correlated)",
}
#: The light a camera's noise is drawn for: :data:`denoisers.noise.PRESETS`, or a visitor's a, b.
LIGHTS = {"daylight": "Daylight", "indoors": "Indoors", "night": "Night",
          "custom": "Custom a and b"}
#: The photon counts offered for Poisson noise (all within ``noise.LEVELS["poisson"]``).
PEAKS = (1, 2, 4, 8, 16, 32, 64, 128, 255)


@dataclass(frozen=True)
class Scene:
    """The image every page works on.

    ``clean`` is None when the visitor says the image is already noisy; then
    ``sigma`` is estimated from it and metrics that need the clean image are
    hidden. ``sigma`` is on the [0, 1] scale and is what methods are told.
    ``key`` names the noisy image and sigma, ``clean_key`` the clean image
    (its digest, None without one): cache keys, computed once per run.
    ``source`` names the image for pages to write (a sample's name, or
    "upload: " and the file's name escaped with :func:`ui.text.plain`, so it
    is safe in markdown) and ``messages`` are markdown, escaped the same way.
    ``curve`` is the (a, b) of noise whose variance is ``a x + b`` (a camera's
    noise drawn here, or the curve fitted to a photo's own), which methods
    are told in place of one sigma (:func:`denoisers.run`'s ``noise_model``);
    None when they are told ``sigma``.
    """

    source: str
    clean: np.ndarray | None
    noisy: np.ndarray
    sigma: float
    noise: str
    seed: int
    clip: bool
    notes: tuple[str, ...]
    key: str
    #: What the visitor must be told at the top of the page (an upload that could not be used).
    messages: tuple[str, ...] = ()
    clean_key: str | None = None
    curve: tuple[float, float] | None = None

    @property
    def sample(self) -> bool:
        """Whether the image is one of the site's samples, not a visitor's upload: only a
        sample's results are written to the on-disk store (:mod:`ui.store`)."""
        return not self.source.startswith(UPLOAD_PREFIX)

    @property
    def original(self) -> np.ndarray:
        """The image before this site added noise: the clean one, or the photo itself when
        its noise is its own."""
        return self.noisy if self.real else self.clean

    @property
    def real(self) -> bool:
        """Whether the noise is the photo's own (no clean reference)."""
        return self.clean is None

    @property
    def colour(self) -> bool:
        return self.noisy.ndim == 3

    @property
    def sigma255(self) -> float:
        return self.sigma * 255.0


def current() -> Scene:
    """The scene the sidebar chose on this run."""
    if "scene" not in st.session_state:
        st.session_state["scene"] = sidebar()
    return st.session_state["scene"]


def sidebar() -> Scene:
    """Draw the image and noise controls in the sidebar; return the scene."""
    with st.sidebar:
        st.subheader("Image")
        clean, source, notes, messages = _pick_image()
        st.subheader("Noise")
        real = links.toggle(
            "The image is already noisy", key="real",
            help="For a real photo: no noise is added, the noise is measured in the image "
                 "(how its level depends on the light, and one σ from the finest wavelet "
                 "scale) and metrics that need a clean original are hidden.",
        )
        if real:
            scene = _photo_scene(clean, source, notes, messages)
        else:
            scene = _noisy_scene(clean, source, notes, messages)
    st.session_state["scene"] = scene
    return scene


def show_messages(scene: Scene) -> None:
    """Say at the top of the page what the sidebar could not do (a bad upload)."""
    for message in scene.messages:
        st.error(message, icon=":material/image_not_supported:")


#: How many times the uploader was cleared in this session; its key carries the count.
_UPLOAD_ROUND = "scene.upload_round"


def _upload_key() -> str:
    round_ = st.session_state.get(_UPLOAD_ROUND, 0)
    return "upload" if round_ == 0 else f"upload.{round_}"


def _sample_chosen() -> None:
    """The visitor picked a sample: it is used, and an upload present is cleared."""
    if st.session_state.get(_upload_key()) is not None:
        st.session_state[_UPLOAD_ROUND] = st.session_state.get(_UPLOAD_ROUND, 0) + 1


def _in_use(what: str, image: np.ndarray) -> None:
    height, width = image.shape[:2]
    kind = "colour" if image.ndim == 3 else "grey"
    st.markdown(f"**In use:** {what} ({width}x{height}, {kind}).")


def _pick_image() -> tuple[np.ndarray, str, tuple[str, ...], tuple[str, ...]]:
    """The image in use, its name, the notes on reading it, and messages for the page."""
    names = list(images.SAMPLES)
    name = links.selectbox("Sample image", names, key="image", on_change=_sample_chosen,
                           help="Picking a sample uses it, and clears an upload if there is "
                                "one.")
    about = st.empty()
    upload = st.file_uploader(
        "…or upload your own", type=None, key=_upload_key(),
        help="Any PNG, JPEG, TIFF, BMP, WebP or GIF. While it is here it is used instead of "
             "the sample; images larger than the working size below are downscaled to it.",
    )
    side = links.select_slider(
        "Working size (longer side, pixels)", WORKING_SIDES, value=DEFAULT_SIDE, key="side",
        help=f"Larger images are downscaled to this size; smaller sides run faster. The "
             f"largest this site offers is {MAX_SIDE}.",
    )
    messages: tuple[str, ...] = ()
    if upload is not None:
        data = upload.getvalue()
        # The file's name is the visitor's, and a decoder's message may quote the file.
        upload_name = plain(upload.name)
        try:
            loaded = _decoded(hashlib.sha256(data).hexdigest(), data, side)
        except images.ImageError as error:
            st.error(f"{upload_name}: {plain(str(error))} Showing the sample image instead.")
            messages = (f"Your upload {upload_name} could not be used: {plain(str(error))} "
                        f"The page shows the sample image “{name}” instead.",)
        else:
            about.caption("Not in use while your upload is: pick a sample to use it instead "
                          "(that clears the upload).")
            for note in loaded.notes:
                st.info(plain(note))
            _in_use(f"your upload *{upload_name}*", loaded.image)
            st.caption(f"A photo cannot travel in a link: this page's address opens on the "
                       f"sample *{name}*, with the same settings.")
            return loaded.image, f"{UPLOAD_PREFIX}{upload_name}", loaded.notes, messages
    about.caption(images.SAMPLES[name])
    loaded = _sample(name, side)
    _in_use(f"the sample *{name}*", loaded.image)
    return loaded.image, name, loaded.notes, messages


def _photo_scene(photo: np.ndarray, source: str, notes: tuple[str, ...],
                 messages: tuple[str, ...]) -> Scene:
    """The scene of a photo whose noise is its own: one σ estimated, and the noise-level
    curve fitted to it, which methods are told by default where it varies with the light."""
    sigma = _estimated_sigma(digest(photo), photo)
    key = _key(photo, sigma)
    fit = fitted_curve(key, photo)
    curve = None
    if fit.model is None or fit.problem:
        st.caption(f"One σ ≈ {sigma * 255:.1f} (0–255 scale) from the finest wavelet scale. "
                   f"{fit.problem}")
    elif fit.model.a == 0:
        st.caption(f"The noise is the same at every level: σ ≈ {sigma * 255:.1f} on the 0–255 "
                   "scale (finest wavelet scale).")
    else:
        low, high = (float(fit.model.sigma(x)) * 255 for x in (0, 1))
        st.caption(f"Noise fitted to the photo: σ from {low:.1f} at black to {high:.1f} at "
                   f"white (0–255 scale); one σ from the finest wavelet scale: "
                   f"{sigma * 255:.1f}.")
        if links.toggle("Tell methods the fitted curve", key="real_curve", value=True,
                        help="The networks that take a noise map get the curve's level at "
                             "every pixel; the others run on its variance-stabilising "
                             "transform. Off: every method is told the one σ."):
            curve = (fit.model.a, fit.model.b)
    st.page_link("chapters/real_photographs.py", label="The noise measured in this photo",
                 icon=":material/show_chart:")
    told = "the fitted curve" if curve else f"σ ≈ {sigma * 255:.1f}, estimated"
    return Scene(source, None, photo, sigma, f"its own ({told})", 0, False, notes, key,
                 messages, curve=curve)


def _noisy_scene(clean: np.ndarray, source: str, notes: tuple[str, ...],
                 messages: tuple[str, ...]) -> Scene:
    model = links.selectbox("Noise model", list(NOISE_LABELS), key="noise",
                            format_func=NOISE_LABELS.__getitem__)
    if model == "gaussian":
        level255 = links.slider("σ (0–255 scale)", 0, 100, 25, key="sigma",
                                help="Standard deviation of the noise; the essay's Figure 2 "
                                     "uses 100.")
        level, label = level255 / 255, f"Gaussian, σ = {level255}"
    elif model == "correlated":
        level255 = links.slider("σ of each pixel (0–255 scale)", 0, 100, 15, key="grain",
                                help="The grain is white noise blurred by the 3x3 kernel of "
                                     "bilinear demosaicking, scaled to this level per pixel.")
        level, label = level255 / 255, f"correlated, σ = {level255} per pixel"
    elif model == "poisson_gaussian":
        camera, label = _camera_noise()
        level = (camera.a, camera.b)
    elif model == "poisson":
        peak = noise.LEVELS["poisson"]
        level = links.select_slider("Peak photon count", PEAKS, value=int(peak.default),
                                    key="peak", help=peak.help)
        label = f"Poisson, peak {level}"
    else:
        level = spec_controls((noise.LEVELS["salt_pepper"],), "level", link=True,
                              labels={"amount": "Fraction of pixels hit"})["amount"]
        label = f"salt and pepper, {level:.0%} of pixels"
    seed = int(links.number_input("Seed", 0, 2**31 - 1, 0, key="seed",
                                  help="The same image, noise, level and seed give the same "
                                       "noise."))
    clip = links.toggle(
        "Clip the noisy image to [0, 1]", key="clip",
        help="A camera clips; the benchmarks of the field do not. Clipping biases dark and "
             "bright regions, so it changes every comparison.",
        disabled=model == "salt_pepper",
    )
    clean_key = digest(clean)
    noisy, sigma = _noisy(clean_key, clean, model,
                          level if isinstance(level, tuple) else float(level), seed, clip)
    curve = level if model == "poisson_gaussian" else None
    if curve is not None:
        st.caption(f"Methods are told this curve: the networks that take a noise map get its "
                   f"level at every pixel, the others run on its variance-stabilising "
                   f"transform (the noise's RMS is σ ≈ {sigma * 255:.1f}).")
    elif model != "gaussian":
        st.caption(f"Methods are told σ ≈ {sigma * 255:.1f}, the RMS of this noise.")
    return Scene(source, clean, noisy, sigma, label, seed, clip, notes, _key(noisy, sigma),
                 messages, clean_key, curve)


def _camera_noise() -> tuple[noise.PoissonGaussian, str]:
    """The sidebar's controls of a camera's noise: a preset light or the visitor's a and b;
    the model and its label. Settings the model refuses are said, and the indoor preset is
    drawn instead."""
    light = links.selectbox("Light", list(LIGHTS), key="light", index=1,
                            format_func=LIGHTS.__getitem__,
                            help="How a phone's photograph is noisy in that light: the "
                                 "variance a x + b grows with the light x a pixel got.")
    if light != "custom":
        model = noise.PRESETS[light]
    else:
        indoors = noise.PRESETS["indoors"]
        a = links.number_input("a: variance per unit of light", 0.0, noise.MAX_VARIANCE,
                               indoors.a, 0.0005, key="noise_a", format="%.5f",
                               help="Photon (shot) noise: the variance at white, less b.")
        b = links.number_input("b: variance at black", 0.0, noise.MAX_VARIANCE, indoors.b,
                               0.00001, key="noise_b", format="%.6f",
                               help="The sensor's read-out noise, the same at every level.")
        try:
            model = noise.PoissonGaussian(float(a), float(b))
        except noise.InvalidInput as error:
            st.error(f"{error}. The indoor setting is used instead.")
            model = indoors
    st.caption(f"σ goes from {model.sigma(0) * 255:.1f} at black to {model.sigma(1) * 255:.1f} "
               "at white (0–255 scale).")
    return model, f"a camera's, {LIGHTS[light].lower()} (a = {model.a:g}, b = {model.b:g})"


def with_gaussian_noise(scene: Scene, sigma255: float) -> Scene:
    """The same clean image and seed with Gaussian noise of ``sigma255`` (0-255 scale)."""
    if scene.clean is None:
        raise ValueError("the image is marked as already noisy: there is no clean image "
                         "to add noise to")
    noisy, sigma = _noisy(scene.clean_key, scene.clean, "gaussian", sigma255 / 255,
                          scene.seed, scene.clip)
    return Scene(scene.source, scene.clean, noisy, sigma, f"Gaussian, σ = {sigma255:g}",
                 scene.seed, scene.clip, scene.notes, _key(noisy, sigma), scene.messages,
                 scene.clean_key)


def centre(scene: Scene, side: int) -> Scene:
    """The centre ``side`` x ``side`` crop of the scene (the scene itself when it is no
    larger).

    The noise is cropped, not drawn again, so the crop is exactly what the visitor sees in
    that part of the image, for every noise model and for an already-noisy photo; its
    digests are the crop's own, so caches tell it from the whole, and ``source`` is kept,
    so a crop of a sample may still go to the on-disk store (:attr:`Scene.sample`).
    """
    if max(scene.noisy.shape[:2]) <= side:
        return scene
    noisy = images.centre_crop(scene.noisy, side)
    clean = None if scene.clean is None else images.centre_crop(scene.clean, side)
    return dataclasses.replace(scene, clean=clean, noisy=noisy, key=_key(noisy, scene.sigma),
                               clean_key=None if clean is None else digest(clean))


def _key(noisy: np.ndarray, sigma: float) -> str:
    return f"{digest(noisy)}-{sigma:.6f}"


@st.cache_data(max_size=memory.max_size("scene._sample"), ttl=memory.ttl("scene._sample"),
               show_spinner=False)
def _sample(name: str, side: int) -> images.Loaded:
    image, note = images.downscale(images.load_sample(name), side)
    return images.Loaded(image, (note,) if note else ())


@st.cache_data(max_size=memory.max_size("scene._decoded"), ttl=memory.ttl("scene._decoded"),
               show_spinner="Reading the image…")
def _decoded(sha: str, _data: bytes, side: int) -> images.Loaded:
    return images.load_upload(_data, max_side=side)


@st.cache_data(max_size=memory.max_size("scene._noisy"), ttl=memory.ttl("scene._noisy"),
               show_spinner=False)
def _noisy(image_key: str, _clean: np.ndarray, model: str, level: float | tuple[float, float],
           seed: int, clip: bool) -> tuple[np.ndarray, float]:
    drawn = noise.add_noise(_clean, model,
                            noise.PoissonGaussian(*level) if isinstance(level, tuple) else level,
                            seed=seed, clip=clip)
    return drawn.image, drawn.sigma


@st.cache_data(max_size=memory.max_size("scene._estimated_sigma"),
               ttl=memory.ttl("scene._estimated_sigma"), show_spinner=False)
def _estimated_sigma(image_key: str, _image: np.ndarray) -> float:
    return noise.estimate_sigma(_image)


@st.cache_data(max_size=memory.max_size("scene.fitted_curve"),
               ttl=memory.ttl("scene.fitted_curve"), show_spinner=False)
def fitted_curve(image_key: str, _image: np.ndarray) -> NoiseFit:
    """The noise-level curve fitted to ``_image``, cached by ``image_key`` (a scene's
    ``key``): the sidebar fits an already-noisy photo once, and the real-photographs page
    reads the same entry."""
    return fit_noise_level(_image)
