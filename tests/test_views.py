"""The wizard's views: full pages, htmx partials, valid and invalid posts, wrong methods."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pathways.models import Walk
from tests import cases

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
CASE = cases.GASTRINOMA_HEAD_DEEP_1_8CM


def start(client: Client) -> Walk:
    response = client.post(reverse("pathways:pathway_start", args=["pnet"]))
    assert response.status_code == 303
    return Walk.objects.latest("created_at")


def current_node(walk: Walk) -> str:
    from pathways import engine, selectors

    walk.refresh_from_db()
    return engine.evaluate(selectors.snapshot_for(walk.version), walk.answers).current


def step_url(walk: Walk, node: str) -> str:
    return reverse("pathways:walk_step", kwargs={"slug": "pnet", "walk_id": walk.pk, "node": node})


def answer(client: Client, walk: Walk, node: str, data: dict[str, Any], **extra: Any) -> Any:
    walk.refresh_from_db()
    return client.post(step_url(walk, node), {"revision": walk.revision, **data}, **extra)


def walk_case(client: Client, case: dict[str, Any]) -> Walk:
    walk = start(client)
    for _ in range(20):
        node = current_node(walk)
        if node is None:
            return walk
        from pathways import selectors

        fields = selectors.snapshot_for(walk.version).nodes[node].fields
        response = answer(client, walk, node, {key: case[key] for key in fields if key in case})
        assert response.status_code == 303, response.content.decode()[:500]
    raise AssertionError("walk did not finish")


def test_home_lists_the_published_pathway(client: Client, pnet_version: Any) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert reverse("pathways:pathway_start", args=["pnet"]) in response.content.decode()


def test_intro_has_a_step_form_with_only_a_start_button(client: Client, pnet_version: Any) -> None:
    response = client.get("/pathways/pnet/")
    html = response.content.decode()
    form = re.search(r"<form data-step.*?</form>", html, re.S).group(0)
    assert form.count("<button") == 1 and 'type="submit"' in form
    assert "<input" in form and 'name="csrfmiddlewaretoken"' in form
    assert "Intended use" in html


def test_unknown_pathway_is_404(client: Client, pnet_version: Any) -> None:
    assert client.get("/pathways/nothing/").status_code == 404
    assert client.post("/pathways/nothing/").status_code == 404


def test_starting_a_walk_redirects_to_its_first_step_and_remembers_it(
    client: Client, pnet_version: Any
) -> None:
    response = client.post("/pathways/pnet/")
    walk = Walk.objects.get()
    assert response.status_code == 303
    assert response["Location"] == step_url(walk, "syndrome")
    assert walk.answers == {} and walk.version == pnet_version
    # Coming back to the start page right away offers the walk; it never reopens it by itself.
    offered = client.get("/pathways/pnet/")
    assert offered.status_code == 200
    html = offered.content.decode()
    assert "data-unfinished" in html and f"/pathways/pnet/walks/{walk.pk}/" in html
    assert "0 answers" in html and "Start a new case" in html


def test_starting_a_walk_with_htmx_renders_the_step_partial(client: Client, pnet_version: Any) -> None:
    response = client.post("/pathways/pnet/", **HTMX)
    walk = Walk.objects.get()
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="walk"' in html and 'name="suspected_syndrome"' in html
    assert response["HX-Push-Url"] == step_url(walk, "syndrome")


def test_step_full_page_and_partial(client: Client, pnet_version: Any) -> None:
    walk = start(client)
    full = client.get(step_url(walk, "syndrome"))
    partial = client.get(step_url(walk, "syndrome"), **HTMX)
    assert "<html" in full.content.decode()
    assert "<html" not in partial.content.decode()
    for response in (full, partial):
        html = response.content.decode()
        assert response.status_code == 200
        assert "HX-Request" in response["Vary"]
        assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
        assert html.count("<form data-step") == 1
        for value in ("none", "insulinoma", "gastrinoma", "glucagonoma", "vipoma", "other"):
            assert f'name="suspected_syndrome" value="{value}"' in html
        assert 'data-code="workup.cga_5hiaa"' in html


def test_valid_post_saves_the_answer_and_redirects_to_the_next_step(
    client: Client, pnet_version: Any
) -> None:
    walk = start(client)
    response = answer(client, walk, "syndrome", {"suspected_syndrome": "insulinoma"})
    walk.refresh_from_db()
    assert response.status_code == 303
    assert response["Location"] == step_url(walk, "biochem_insulinoma")
    assert walk.answers == {"suspected_syndrome": "insulinoma"}
    assert walk.revision == 1


def test_valid_htmx_post_renders_the_next_step(client: Client, pnet_version: Any) -> None:
    walk = start(client)
    response = answer(client, walk, "syndrome", {"suspected_syndrome": "vipoma"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'name="vip_pg_ml"' in html and 'name="potassium_mmol_l"' in html
    assert 'data-code="workup.vip_panel"' in html
    assert 'data-change="suspected_syndrome"' in html
    assert response["HX-Push-Url"] == step_url(walk, "biochem_vipoma")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "required"),
        ({"suspected_syndrome": "carcinoid"}, "not one of"),
        ({"suspected_syndrome": ["none", "insulinoma"]}, "one value"),
        ({"suspected_syndrome": "none", "tumor_size_cm": "2"}, "does not ask"),
        ({"suspected_syndrome": "none", "admin": "1"}, "does not ask"),
        ({"suspected_syndrome": "non\x00e"}, "forbidden"),
    ],
)
def test_invalid_post_shows_the_error_and_changes_nothing(
    client: Client, pnet_version: Any, data: dict, message: str
) -> None:
    walk = start(client)
    for extra in ({}, HTMX):
        response = answer(client, walk, "syndrome", data, **extra)
        assert response.status_code == 422
        assert message in response.content.decode()
        walk.refresh_from_db()
        assert walk.answers == {} and walk.revision == 0


@pytest.mark.parametrize(
    "text", ["1e3", "NaN", "inf", "1e309", "١٫٥", "1,500", "15 mm", "0", "31", "-2", "abc", " "]
)
def test_bad_numbers_are_refused_at_the_field(client: Client, pnet_version: Any, text: str) -> None:
    walk = start(client)
    for node, data in (
        ("syndrome", {"suspected_syndrome": "none"}),
        ("biochem_general", {"functional_status": "nonfunctioning"}),
        ("extent", {"disease_extent": "localized"}),
    ):
        assert answer(client, walk, node, data).status_code == 303
    walk.refresh_from_db()
    before = dict(walk.answers)
    response = answer(client, walk, "size", {"tumor_size_cm": text})
    assert response.status_code == 422
    html = response.content.decode()
    assert "invalid-feedback" in html
    walk.refresh_from_db()
    assert walk.answers == before


def _at_the_size_step(client: Client) -> Walk:
    walk = start(client)
    for node, data in (
        ("syndrome", {"suspected_syndrome": "none"}),
        ("biochem_general", {"functional_status": "nonfunctioning"}),
        ("extent", {"disease_extent": "localized"}),
    ):
        assert answer(client, walk, node, data).status_code == 303
    walk.refresh_from_db()
    return walk


def test_a_number_far_beyond_the_thresholds_routes_only_once_confirmed(
    client: Client, pnet_version: Any
) -> None:
    walk = _at_the_size_step(client)
    before = dict(walk.answers)
    for extra in ({}, HTMX):
        response = answer(client, walk, "size", {"tumor_size_cm": "15"}, **extra)
        assert response.status_code == 422
        html = response.content.decode()
        assert "15 cm is more than five times the largest threshold for Tumour size" in html
        assert 'name="confirm_tumor_size_cm"' in html and 'value="15"' in html
        walk.refresh_from_db()
        assert walk.answers == before
    # The box confirms the value it was shown for, not another one.
    response = answer(client, walk, "size", {"tumor_size_cm": "16", "confirm_tumor_size_cm": "15"})
    assert response.status_code == 422 and "16 cm is more than five times" in response.content.decode()
    response = answer(client, walk, "size", {"tumor_size_cm": "15", "confirm_tumor_size_cm": "15"})
    assert response.status_code == 303
    walk.refresh_from_db()
    assert walk.answers["tumor_size_cm"] == 15


@pytest.mark.parametrize("text", ["10", "1.5", "2,5"])
def test_a_number_within_five_times_the_thresholds_needs_no_confirmation(
    client: Client, pnet_version: Any, text: str
) -> None:
    walk = _at_the_size_step(client)
    assert answer(client, walk, "size", {"tumor_size_cm": text}).status_code == 303


def test_a_confirmation_box_of_another_step_is_refused(client: Client, pnet_version: Any) -> None:
    walk = start(client)
    response = answer(client, walk, "syndrome", {"suspected_syndrome": "none", "confirm_tumor_size_cm": "15"})
    assert response.status_code == 422 and "does not ask" in response.content.decode()


def test_a_step_not_on_the_path_is_refused(client: Client, pnet_version: Any) -> None:
    walk = start(client)
    answer(client, walk, "syndrome", {"suspected_syndrome": "none"})
    for node in ("size", "biochem_insulinoma", "imaging", "observation", "no-such-node"):
        response = answer(client, walk, node, {"tumor_size_cm": "1"})
        assert response.status_code == 409
        walk.refresh_from_db()
        assert walk.answers == {"suspected_syndrome": "none"}
    assert client.get(step_url(walk, "size")).status_code == 302


def test_a_replayed_form_is_refused_as_stale(client: Client, pnet_version: Any) -> None:
    walk = start(client)
    first = client.post(step_url(walk, "syndrome"), {"revision": 0, "suspected_syndrome": "none"})
    replay = client.post(step_url(walk, "syndrome"), {"revision": 0, "suspected_syndrome": "insulinoma"})
    walk.refresh_from_db()
    assert first.status_code == 303
    assert replay.status_code == 409
    assert "changed since" in replay.content.decode()
    assert walk.answers == {"suspected_syndrome": "none"} and walk.revision == 1


def test_a_complete_walk_shows_the_result_with_each_code_once(client: Client, pnet_version: Any) -> None:
    walk = walk_case(client, CASE)
    response = client.get(reverse("pathways:walk_detail", kwargs={"slug": "pnet", "walk_id": walk.pk}))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-outcome="surgery_gastrinoma_head_pancreatoduodenectomy"' in html
    codes = re.findall(r'data-code="([^"]+)"', html)
    assert len(codes) == len(set(codes))
    assert {"surgery.pancreatoduodenectomy", "fx.gastrinoma_ppi", "caution.lymph_node_sampling"} <= set(codes)
    assert "special.splenectomy_vaccination" not in codes
    for key in CASE:
        assert f'data-change="{key}"' in html
    assert "1.8 cm" in html
    assert 'href="#ref-1"' in html and 'id="ref-1"' in html
    assert "does not list it" in html  # references 4 and 5 are shown honestly
    assert "Disclaimer" in html or "disclaimer" in html
    walk.refresh_from_db()
    assert walk.completed_at is not None


def test_changing_an_earlier_answer_reroutes_and_drops_answers(client: Client, pnet_version: Any) -> None:
    walk = walk_case(client, CASE)
    response = client.get(step_url(walk, "extent"))
    assert "changing an earlier answer" in response.content.decode()
    response = answer(client, walk, "extent", {"disease_extent": "metastatic"})
    walk.refresh_from_db()
    assert response["Location"] == step_url(walk, "ki67")
    assert "tumor_size_cm" not in walk.answers and "tumor_location" not in walk.answers
    assert walk.answers["functional_status"] == "gastrinoma"
    assert walk.completed_at is None


def test_walk_of_another_pathway_or_unknown_id_is_404(client: Client, pnet_version: Any) -> None:
    walk = start(client)
    assert client.get(f"/pathways/other/walks/{walk.pk}/").status_code == 404
    assert client.get(f"/pathways/pnet/walks/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/pathways/pnet/walks/{walk.pk}/steps/syndrome/x").status_code == 404


def test_incomplete_walk_url_goes_to_the_current_step(client: Client, pnet_version: Any) -> None:
    walk = start(client)
    response = client.get(reverse("pathways:walk_detail", kwargs={"slug": "pnet", "walk_id": walk.pk}))
    assert response.status_code == 302
    assert response["Location"] == step_url(walk, "syndrome")


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_wrong_methods_are_refused(client: Client, pnet_version: Any, method: str) -> None:
    walk = start(client)
    for url in ("/", "/pathways/pnet/", step_url(walk, "syndrome"), "/api/pathways/pnet/evaluate"):
        assert getattr(client, method)(url).status_code == 405
    detail = reverse("pathways:walk_detail", kwargs={"slug": "pnet", "walk_id": walk.pk})
    assert client.post(detail).status_code == 405
    assert client.get("/api/pathways/pnet/evaluate").status_code == 405


def test_csrf_is_enforced_on_wizard_posts(pnet_version: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post("/pathways/pnet/").status_code == 403
    assert Walk.objects.count() == 0


def count_queries(client: Client, method: str, url: str, data: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data or {}, **HTMX)
    assert response.status_code == 200
    return len(queries)


def test_a_step_costs_the_same_few_queries_at_any_depth(client: Client, pnet_version: Any) -> None:
    walk = start(client)
    client.get(step_url(walk, "syndrome"))  # the snapshot is built once per version, then cached
    first_get = count_queries(client, "get", step_url(walk, "syndrome"))
    first_post = count_queries(
        client, "post", step_url(walk, "syndrome"), {"revision": 0, "suspected_syndrome": "gastrinoma"}
    )
    answer(client, walk, "biochem_gastrinoma", {"functional_status": "gastrinoma"})
    answer(client, walk, "extent", {"disease_extent": "localized"})
    answer(client, walk, "size", {"tumor_size_cm": "2"})
    answer(client, walk, "location", {"tumor_location": "head"})
    walk.refresh_from_db()
    deep_get = count_queries(client, "get", step_url(walk, "gastrinoma_head"))
    deep_post = count_queries(
        client,
        "post",
        step_url(walk, "gastrinoma_head"),
        {"revision": walk.revision, "gastrinoma_head_type": "deep"},
    )
    assert first_get == deep_get <= 2
    assert first_post == deep_post <= 4


def test_a_preview_walk_is_for_staff_only_and_marked_as_a_preview(client: Client, pnet_version: Any) -> None:
    from django.contrib.auth import get_user_model

    from pathways import services

    walk = services.start_walk(pnet_version, preview=True)
    url = step_url(walk, "syndrome")
    assert client.get(url).status_code == 404
    assert client.post(url, {"revision": 0, "suspected_syndrome": "none"}).status_code == 404
    staff = get_user_model().objects.create_user("editor", password="pw-editor-123", is_staff=True)
    client.force_login(staff)
    html = client.get(url).content.decode()
    assert "preview-banner" in html and "not for patient care" in html
    normal = start(client)
    assert "preview-banner" not in client.get(step_url(normal, "syndrome")).content.decode()


def test_a_walk_left_for_a_while_is_offered_not_reopened(client: Client, pnet_version: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    walk = start(client)
    Walk.objects.filter(pk=walk.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    response = client.get("/pathways/pnet/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Resume that case" in html and str(walk.pk) in html
    form = re.search(r"<form data-step.*?</form>", html, re.S).group(0)
    assert form.count("<button") == 1
    # Opened by its own URL after the pause, the walk says it is being reopened and when it began.
    step = client.get(step_url(walk, "syndrome")).content.decode()
    assert "data-resumed" in step and walk.created_at.strftime("%Y") in step
    Walk.objects.filter(pk=walk.pk).update(completed_at=timezone.now())
    assert "Resume that case" not in client.get("/pathways/pnet/").content.decode()


def test_a_walk_in_use_does_not_say_it_is_reopened(client: Client, pnet_version: Any) -> None:
    walk = start(client)
    assert "data-resumed" not in client.get(step_url(walk, "syndrome")).content.decode()


def test_head_requests_are_answered_like_get(client: Client, pnet_version: Any) -> None:
    walk = start(client)
    for url in ("/", "/pathways/pnet/", step_url(walk, "syndrome")):
        get, head = client.get(url), client.head(url)
        assert (head.status_code, headers(head)) == (get.status_code, headers(get)), url
        assert head.content == b""


def headers(response: Any) -> dict[str, str]:
    """The response's headers but the clock (``Expires`` is now, to the second, on no-cache pages)."""
    return {name: value for name, value in response.headers.items() if name not in {"Date", "Expires"}}


def test_a_new_walk_can_be_started_in_the_middle_of_one(client: Client, pnet_version: Any) -> None:
    walk = start(client)
    html = client.get(step_url(walk, "syndrome")).content.decode()
    assert "/pathways/pnet/?new=1" in html
    intro = client.get("/pathways/pnet/?new=1")
    assert intro.status_code == 200
    assert "Start a new case" in intro.content.decode()
    client.post("/pathways/pnet/")
    assert Walk.objects.count() == 2


def _walked(client: Client, pnet_version: Any, case: dict[str, Any]) -> Walk:
    from tests.walking import walk_with

    walk = walk_with(pnet_version, case)
    session_cookie_walk = client.get(reverse("pathways:walk_detail", args=["pnet", walk.pk]))
    assert session_cookie_walk.status_code == 200
    return walk


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_changing_an_answer_says_what_changed_once(client: Client, pnet_version: Any, htmx: bool) -> None:
    from tests.walking import OBSERVATION_CASE

    walk = _walked(client, pnet_version, OBSERVATION_CASE)
    extra = HTMX if htmx else {}
    response = answer(client, walk, "size", {"tumor_size_cm": "2.5"}, **extra)
    page = response if htmx else client.get(response["Location"], follow=True)
    html = page.content.decode()
    said = re.search(r"<div[^>]*data-changed[^>]*>(.*?)</div>", html, re.S)
    assert said, "no data-changed block"
    text = " ".join(re.sub(r"<[^>]+>", "", said.group(1)).split())
    assert "Tumour size changed from 0.9 cm to 2.5 cm." in text
    assert "Outcome before: Observation with imaging surveillance. Now:" in text
    assert "Answers dropped, no longer on the path: Found incidentally (Yes)" in text
    # Shown once: the next page of the walk no longer says it.
    again = client.get(reverse("pathways:walk_detail", args=["pnet", walk.pk]), follow=True)
    assert "data-changed" not in again.content.decode()


def test_answering_forward_says_nothing_changed(client: Client, pnet_version: Any) -> None:
    walk = start(client)
    response = answer(client, walk, "syndrome", {"suspected_syndrome": "none"})
    assert "data-changed" not in client.get(response["Location"]).content.decode()


FORM_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_an_answer_s_page_carries_back_the_token_its_form_sent(pnet_version: Any) -> None:
    """The token a checked post sent is the one its swap's form carries: no fresh masking, no
    cookie renewed. The bare secret (the cookie's value, accepted in the header) is never echoed."""
    client = Client(enforce_csrf_checks=True)
    intro = client.get(reverse("pathways:pathway_start", args=["pnet"])).content.decode()
    started = client.post(
        reverse("pathways:pathway_start", args=["pnet"]),
        {"csrfmiddlewaretoken": FORM_TOKEN.search(intro).group(1)},
        **HTMX,
    )
    walk = Walk.objects.latest("created_at")
    token = FORM_TOKEN.search(started.content.decode()).group(1)
    assert len(token) == 64
    data = {"revision": 0, "suspected_syndrome": "gastrinoma", "csrfmiddlewaretoken": token}
    swap = client.post(step_url(walk, "syndrome"), data, **HTMX)
    assert swap.status_code == 200
    assert FORM_TOKEN.search(swap.content.decode()).group(1) == token
    assert "csrftoken" not in swap.cookies
    forged = {**data, "revision": 1, "csrfmiddlewaretoken": token[:-1] + ("a" if token[-1] != "a" else "b")}
    assert client.post(step_url(walk, current_node(walk)), forged, **HTMX).status_code == 403

    secret = client.cookies["csrftoken"].value
    node = current_node(walk)
    by_header = client.post(
        step_url(walk, node),
        {"revision": 1, "functional_status": "gastrinoma"},
        HTTP_X_CSRFTOKEN=secret,
        **HTMX,
    )
    assert by_header.status_code == 200
    fresh = FORM_TOKEN.search(by_header.content.decode()).group(1)
    assert len(fresh) == 64 and fresh != token and secret not in by_header.content.decode()
    opened = client.get(step_url(walk, node), **HTMX)  # a change link: nothing was checked
    assert FORM_TOKEN.search(opened.content.decode()).group(1) not in (token, fresh)


def test_walk_pages_get_djangos_never_cache_headers_worked_out_once_a_second() -> None:
    from django.http import HttpResponse
    from django.utils.cache import add_never_cache_headers

    from pathways import views

    for _ in range(3):  # the second may tick between the two
        ours, djangos = HttpResponse(), HttpResponse()
        views._no_store(ours)
        add_never_cache_headers(djangos)
        if ours["Expires"] == djangos["Expires"]:
            break
    assert (ours["Expires"], ours["Cache-Control"]) == (djangos["Expires"], djangos["Cache-Control"])
    assert "no-store" in ours["Cache-Control"]
    own = HttpResponse()
    own["Cache-Control"] = "private"
    views._no_store(own)  # a response with caching headers of its own is patched as Django patches it
    expected = HttpResponse()
    expected["Cache-Control"] = "private"
    add_never_cache_headers(expected)
    assert own["Cache-Control"] == expected["Cache-Control"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_HX_REQUEST": "true"},
        {"HTTP_HX_REQUEST": "false", "HTTP_HX_BOOSTED": "true"},
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true", "HTTP_HX_TARGET": "walk"},
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/pathways/pnet/?a=1"},
        {"HTTP_HX_TRIGGER_NAME": "caf%C3%A9", "HTTP_HX_TRIGGER_NAME_URI_AUTOENCODED": "true"},
        {"HTTP_HX_PROMPT": "caf%C3%A9", "HTTP_HX_PROMPT_URI_AUTOENCODED": "false", "HTTP_HX_TRIGGER": ""},
    ],
)
def test_request_htmx_reads_the_same_headers_as_django_htmx(headers: dict[str, str]) -> None:
    """``request.htmx`` reads ``META`` instead of building ``request.headers``: it says what
    django-htmx's own details say, header for header."""
    import django_htmx.middleware

    from pnetsite.middleware import HtmxDetails

    names = (
        "boosted",
        "current_url",
        "current_url_abs_path",
        "history_restore_request",
        "prompt",
        "target",
        "trigger",
        "trigger_name",
    )
    request = RequestFactory().get("/pathways/pnet/", **headers)
    ours = HtmxDetails(request)
    said = {"": bool(ours), **{name: getattr(ours, name) for name in names}}
    assert "headers" not in vars(request)  # never built
    theirs = django_htmx.middleware.HtmxDetails(RequestFactory().get("/pathways/pnet/", **headers))
    assert said == {"": bool(theirs), **{name: getattr(theirs, name) for name in names}}


def test_every_request_gets_the_htmx_details_that_read_meta(client: Client, pnet_version: Any) -> None:
    from pnetsite.middleware import HtmxDetails

    response = client.get(reverse("pathways:pathway_start", kwargs={"slug": "pnet"}), HTTP_HX_REQUEST="true")
    assert type(response.wsgi_request.htmx) is HtmxDetails and response.wsgi_request.htmx
