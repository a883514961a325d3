"""The frame of every page as a keyboard user and a printer meet it, in real Chromium: a focus ring of 2 px or more
at 3:1 or more against what surrounds it, on the light page and on the dark menu; the skip link; the error summary
that takes focus and leads to each field; the print stylesheet."""

import pytest

from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The focused element's outline, and the colour painted just outside it (the first element there that is not the
# focused one or inside it, then the first of its ancestors with an opaque background).
FOCUS_RING = """
(element) => {
  const style = getComputedStyle(element);
  const width = parseFloat(style.outlineWidth) || 0;
  const offset = parseFloat(style.outlineOffset) || 0;
  const box = element.getBoundingClientRect();
  const x = Math.min(Math.max(box.left + box.width / 2, 1), innerWidth - 1);
  let y = box.top - offset - width - 2;
  if (y < 1) { y = box.bottom + offset + width + 2; }
  let around = document.elementsFromPoint(x, y).find((other) => other !== element && !element.contains(other));
  let background = "rgb(255, 255, 255)";
  for (let node = around; node; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour !== "transparent" && !colour.endsWith(", 0)")) { background = colour; break; }
  }
  return {style: style.outlineStyle, width: width, colour: style.outlineColor, background: background,
          text: (element.innerText || element.getAttribute("name") || element.id || "").trim()};
}
"""


def channels(colour: str) -> tuple[float, float, float]:
    values = colour[colour.index("(") + 1 : colour.index(")")].split(",")
    return tuple(float(value) / 255 for value in values[:3])


def luminance(colour: str) -> float:
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels(colour)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def tab_to(page, selector: str, limit: int = 120):
    """Press Tab until the element `selector` has focus, as a keyboard user reaches it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return page.locator(":focus")
    raise AssertionError(f"{selector} not reached with Tab")


def assert_visible_focus(page, selector: str) -> dict:
    ring = tab_to(page, selector).evaluate(FOCUS_RING)
    assert ring["style"] == "solid", ring
    assert ring["width"] >= 2, ring
    ratio = contrast(ring["colour"], ring["background"])
    assert ratio >= 3, (ring, ratio)
    return ring


@pytest.mark.parametrize("width", [1280, 390])
def test_focus_is_visible_on_the_page_and_in_the_menu(page, live_server, staff_user, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/candidats/nouveau/")

    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Aller au contenu"
    ring = skip.evaluate(FOCUS_RING)
    assert ring["width"] >= 2 and contrast(ring["colour"], ring["background"]) >= 3, ring

    # The dark header: the logout button, then the menu (behind its button on a phone).
    assert_visible_focus(page, "header button[type=submit]")
    if width < 992:
        assert_visible_focus(page, ".navbar-toggler")
        page.keyboard.press("Enter")
        page.locator("#menu.show").wait_for()
    assert_visible_focus(page, "#menu a.nav-link[aria-current=page]")

    # The light page: a text field, a list of choices, a button.
    assert_visible_focus(page, "#id_birth_name")
    assert_visible_focus(page, "#id_sex")
    assert_visible_focus(page, "main button[type=submit]")
    # And a link of the footer.
    assert_visible_focus(page, "footer a[href='/accessibilite/']")


def test_focus_is_visible_on_checkboxes_and_small_buttons(page, live_server, staff_user, certification):
    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/referentiel/16204/echelle/")
    assert_visible_focus(page, "main input[type=checkbox]")
    page.goto(f"{live_server.url}/referentiel/16204/blocs/1/")
    assert_visible_focus(page, "main button.btn-sm")


def test_the_skip_link_leads_to_the_content(page, live_server, staff_user):
    log_in(page, live_server, staff_user.username)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('contenu').contains(document.activeElement)")


def test_a_refused_form_puts_focus_on_its_summary_whose_links_reach_each_field(page, live_server, staff_user):
    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/candidats/nouveau/")
    page.get_by_label("Courriel").fill("camille@")
    page.locator("main button[type=submit]").click()

    summary = page.get_by_role("alert").filter(has_text="Le formulaire n'a pas été enregistré")
    summary.wait_for()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    field = page.get_by_role("textbox", name="Courriel")
    assert field.get_attribute("aria-invalid") == "true"
    assert "is-invalid" in field.get_attribute("class")

    page.keyboard.press("Tab")
    link = page.locator(":focus")
    assert link.get_attribute("href") == "#id_birth_name"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_birth_name"
    # Its label is on screen, above the field.
    assert page.locator("label[for=id_birth_name]").is_visible()
    summary.get_by_role("link", name="Courriel : Saisissez une adresse de courriel valide.").click()
    assert page.evaluate("document.activeElement.id") == "id_email"


def test_printing_hides_the_menu_and_keeps_the_content(page, live_server, staff_user, certification):
    log_in(page, live_server, staff_user.username)
    page.goto(f"{live_server.url}/referentiel/16204/")
    menu = page.get_by_role("navigation", name="Navigation principale")
    heading = page.get_by_role("heading", level=1)
    badge = page.locator("main .badge").first
    assert menu.is_visible()
    screen_badge = badge.evaluate("(b) => getComputedStyle(b).backgroundColor")

    page.emulate_media(media="print")
    assert not menu.is_visible()
    assert not page.locator("footer").is_visible()
    assert not page.locator("main .btn").first.is_visible()
    assert heading.is_visible() and "Manager de proximité" in heading.inner_text()
    assert page.get_by_role("heading", name="Blocs de compétences").is_visible()
    # A badge keeps its meaning without colour: black text in a black frame.
    printed = badge.evaluate(
        "(b) => { const s = getComputedStyle(b); return [s.color, s.borderTopStyle, s.borderTopColor, s.backgroundColor]; }"
    )
    assert printed[0] == "rgb(0, 0, 0)" and printed[1] == "solid" and printed[2] == "rgb(0, 0, 0)", printed
    assert printed[3] != screen_badge

    page.emulate_media(media="screen")
    assert menu.is_visible()


@pytest.mark.parametrize("path", ["/accessibilite/", "/mentions-legales/", "/donnees-personnelles/"])
def test_the_public_pages_fit_a_phone(page, live_server, path):
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}{path}")
    assert page.get_by_role("navigation", name="Informations sur le site").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= 390")
    response = page.request.get(f"{live_server.url}/favicon.ico")
    assert response.ok and response.headers["content-type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
