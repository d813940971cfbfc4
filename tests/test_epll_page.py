"""The EPLL section of the patch-priors chapter under AppTest: EPLL waits on its button, then
shows the prior, its steps with their PSNR, the component map and one patch's last step."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGE = "chapters/patch_priors.py"


def _problems(at: AppTest) -> list[str]:
    return [e.value for e in (*at.exception, *at.error, *at.warning)]


def test_epll_runs_on_its_button_and_shows_its_prior_steps_and_one_patch():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["side"] = 64
    at.run()
    at.switch_page(PAGE).run()
    assert not _problems(at)
    assert "What the prior believes patches look like" not in [h.value for h in at.subheader]
    at.button(key="run.epll.True").click().run()
    assert not _problems(at), _problems(at)
    headers = [h.value for h in at.subheader]
    for header in ("What the prior believes patches look like",
                   "Half-quadratic splitting, step by step",
                   "The component each patch chose", "One patch, from the inside"):
        assert header in headers, headers
    captions = [img.caption for image in at.image for img in image.proto.imgs]
    assert any(c.startswith("the 8 leading eigenvectors of the 8 heaviest") for c in captions)
    assert any("patches drawn from each of the same components" in c for c in captions)
    assert any(c.startswith("its Wiener estimate under component #") for c in captions)
    assert any("of the prior's components are used here" in c.value for c in at.caption)


def test_at_512_epll_runs_on_the_centre_256_and_the_switch_offers_the_full_size():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["side"] = 512
    at.session_state["epll.iterations"] = 1
    at.run()
    at.switch_page(PAGE).run()
    assert not _problems(at)
    switch = at.toggle(key="priors.epll.full")
    assert switch.label.startswith("Full size, 512x512: ") and switch.value is False
    at.button(key="run.epll.True").click().run()
    assert not _problems(at), _problems(at)
    captions = [c.value for c in at.caption]
    assert any(c.startswith("EPLL ran on the centre 256x256 of the image (512x512)")
               for c in captions), captions
    # The patch looked at is the centre pixel's of the image EPLL ran on: row ~124 of the
    # 256x256 crop (it would be ~252 on the whole 512x512).
    patch = [c for c in captions if c.startswith("The red square is")]
    rows = [int(c.split("top-left at row ")[1].split(",")[0]) for c in patch]
    assert rows and all(100 < row < 150 for row in rows), patch
    switch.set_value(True).run()
    assert not _problems(at), _problems(at)
    captions = [c.value for c in at.caption]
    assert any(c.startswith("At this size (512x512) EPLL takes") for c in captions), captions
    assert not any("EPLL ran on the centre" in c or "EPLL runs on the centre" in c
                   for c in captions), captions
