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
}
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
            help="For a real photo: no noise is added, sigma is estimated from the image "
                 "(wavelet MAD) and metrics that need a clean original are hidden.",
        )
        if real:
            sigma = _estimated_sigma(digest(clean), clean)
            st.caption(f"Estimated noise: σ ≈ {sigma * 255:.1f} on the 0–255 scale.")
            scene = Scene(source, None, clean, sigma, f"its own (σ ≈ {sigma * 255:.1f}, estimated)",
                          0, False, notes, _key(clean, sigma), messages)
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


def _noisy_scene(clean: np.ndarray, source: str, notes: tuple[str, ...],
                 messages: tuple[str, ...]) -> Scene:
    model = links.selectbox("Noise model", list(NOISE_LABELS), key="noise",
                            format_func=NOISE_LABELS.__getitem__)
    if model == "gaussian":
        level255 = links.slider("σ (0–255 scale)", 0, 100, 25, key="sigma",
                                help="Standard deviation of the noise; the essay's Figure 2 "
                                     "uses 100.")
        level, label = level255 / 255, f"Gaussian, σ = {level255}"
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
    noisy, sigma = _noisy(clean_key, clean, model, float(level), seed, clip)
    if model != "gaussian":
        st.caption(f"Methods are told σ ≈ {sigma * 255:.1f}, the RMS of this noise.")
    return Scene(source, clean, noisy, sigma, label, seed, clip, notes, _key(noisy, sigma),
                 messages, clean_key)


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
def _noisy(image_key: str, _clean: np.ndarray, model: str, level: float, seed: int,
           clip: bool) -> tuple[np.ndarray, float]:
    drawn = noise.add_noise(_clean, model, level, seed=seed, clip=clip)
    return drawn.image, drawn.sigma


@st.cache_data(max_size=memory.max_size("scene._estimated_sigma"),
               ttl=memory.ttl("scene._estimated_sigma"), show_spinner=False)
def _estimated_sigma(image_key: str, _image: np.ndarray) -> float:
    return noise.estimate_sigma(_image)
