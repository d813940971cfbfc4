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
