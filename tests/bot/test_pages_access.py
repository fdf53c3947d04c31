"""Who may open what: watcher A, watcher B, landlord groups and strangers × every page and graph route."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete

from bot.app import create_app
from core.clock import ManualClock
from core.db import session_scope
from core.models import Building, Home, HomeWatcher, Watcher
from core.settings import Settings
from core.texts import t
from tests.bot.pages_world import World, build_world


@pytest.fixture
def world(db, clock: ManualClock) -> World:
    return build_world()


@pytest.fixture
def client(settings: Settings, db) -> Iterator[FlaskClient]:
    yield create_app(settings).test_client()


def tamper(url: str) -> str:
    head, token = url.rsplit("/", 1)
    i = len(token) // 2
    return f"{head}/{token[:i]}{'A' if token[i] != 'A' else 'B'}{token[i + 1:]}"


PAGES = ("usage", "alerts", "incident")


def claims_for(world: World, who: str) -> dict[str, int] | None:
    """What each visitor's link claims about home A (None: has no valid link)."""
    return {
        "watcher_a": {"h": world.home_a, "w": world.watcher_a},
        "watcher_b": {"h": world.home_a, "w": world.watcher_b},  # B's id on A's home: never issued, refused
        "group_a": {"h": world.home_a, "g": world.building_a},
        "group_b": {"h": world.home_a, "g": world.building_b},  # another building's group
        "anonymous": None,
    }[who]


ALLOWED = {"watcher_a", "group_a"}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", ["watcher_a", "watcher_b", "group_a", "group_b", "anonymous"])
def test_access_matrix_over_every_page(world: World, client: FlaskClient, who: str, page: str) -> None:
    claims = claims_for(world, who)
    extra = {"i": world.incident_a} if page == "incident" else {}
    url = f"/p/{page}/not-a-token" if claims is None else world.page(page, **claims, **extra)
    response = client.get(url)
    expected = 200 if who in ALLOWED else 403
    assert response.status_code == expected
    body = response.get_data(as_text=True)
    if expected == 403:
        assert "このページは開けません" in body
        assert "alert(1)" not in body  # nothing of the home leaks into the refusal
    else:
        assert "このページは開けません" not in body


@pytest.mark.parametrize("page", PAGES)
def test_tampered_and_expired_page_links_are_refused(world: World, client: FlaskClient, clock: ManualClock,
                                                      page: str) -> None:
    extra = {"i": world.incident_a} if page == "incident" else {}
    url = world.page(page, h=world.home_a, w=world.watcher_a, **extra)
    assert client.get(url).status_code == 200
    assert client.get(tamper(url)).status_code == 403
    other_page = "alerts" if page != "alerts" else "usage"
    assert client.get(url.replace(f"/p/{page}/", f"/p/{other_page}/")).status_code == 403  # issued for another page
    clock.advance(timedelta(hours=25))
    assert client.get(url).status_code == 403


def test_an_alert_of_another_home_is_refused_even_with_a_valid_link(world: World, client: FlaskClient) -> None:
    url = world.page("incident", h=world.home_a, w=world.watcher_a, i=world.incident_b)
    assert client.get(url).status_code == 403


def test_a_link_stops_working_when_the_watcher_is_removed(world: World, client: FlaskClient) -> None:
    url = world.page("usage", h=world.home_a, w=world.watcher_a)
    assert client.get(url).status_code == 200
    with session_scope() as s:
        s.execute(delete(HomeWatcher).where(HomeWatcher.watcher_id == world.watcher_a))
    assert client.get(url).status_code == 403


def test_a_link_stops_working_when_the_account_is_deleted_or_the_group_unlinked(world: World,
                                                                                client: FlaskClient) -> None:
    mine = world.page("alerts", h=world.home_a, w=world.watcher_a)
    group = world.page("alerts", h=world.home_a, g=world.building_a)
    with session_scope() as s:
        s.get(Watcher, world.watcher_a).deleted_at = datetime(2026, 5, 1, tzinfo=UTC)
        s.get(Building, world.building_a).line_group_id = None
    assert client.get(mine).status_code == 403
    assert client.get(group).status_code == 403


def test_an_ended_home_opens_nothing(world: World, client: FlaskClient) -> None:
    page = world.page("usage", h=world.home_a, w=world.watcher_a)
    image = world.graph(world.home_a)
    with session_scope() as s:
        s.get(Home, world.home_a).ended_at = datetime(2026, 5, 31, tzinfo=UTC)
    assert client.get(page).status_code == 403
    assert client.get(image).status_code == 403


def test_graph_images_open_only_with_an_untampered_unexpired_link(world: World, client: FlaskClient,
                                                                  clock: ManualClock) -> None:
    url = world.graph(world.home_a)
    full = client.get(url)
    assert full.status_code == 200 and full.mimetype == "image/png"
    preview = client.get(url + "?size=preview")
    assert preview.status_code == 200 and len(preview.data) < len(full.data)
    from io import BytesIO

    from PIL import Image

    assert Image.open(BytesIO(preview.data)).size[0] <= 240
    assert client.get(tamper(url[:-4]) + ".png").status_code == 403
    assert client.get("/graphs/nonsense.png").status_code == 403
    page_token = world.page("usage", h=world.home_a, w=world.watcher_a).rsplit("/", 1)[1]
    assert client.get(f"/graphs/{page_token}.png").status_code == 403  # a page link is not a graph link
    clock.advance(timedelta(days=8))
    assert client.get(url).status_code == 403


def test_names_are_shown_as_text_never_as_markup(world: World, client: FlaskClient) -> None:
    body = client.get(world.page("usage", h=world.home_a, g=world.building_a)).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>" not in body
    detail = client.get(world.page("incident", h=world.home_a, g=world.building_a, i=world.incident_a))
    text = detail.get_data(as_text=True)
    assert "&lt;b&gt;長男&lt;/b&gt;" in text and "<b>長男" not in text


def test_the_alert_detail_tells_who_was_contacted_when_in_local_time(world: World, client: FlaskClient) -> None:
    body = client.get(world.page("incident", h=world.home_a, w=world.watcher_a, i=world.incident_a)).get_data(
        as_text=True)
    # window_start 20:00 UTC = 05:00 JST; the call to the resident at 22:00 UTC = 07:00 JST.
    assert "2026-06-01 05:00" in body and "このころから電気の使用が止まりました" in body
    called = t("reports.timeline.contact.voice", "ja", who="お父さん", n=1, result=t("reports.result.no_answer"))
    assert "2026-06-01 07:00" in body and called in body  # in sentences a family reads
    assert t("reports.result.sent") in body and "step_run" not in body
    assert "が対応を引き受けました" in body and "終了しました: 無事が確認できました" in body
    assert "+819012345678" not in body and "Uxxxx" not in body  # no phone numbers or LINE ids on pages
    assert body.index("05:00") < body.index("07:00")


def test_english_by_the_watchers_language_or_by_lang(world: World, client: FlaskClient) -> None:
    mine_b = world.page("alerts", h=world.home_b, w=world.watcher_b)
    assert "Alerts" in client.get(mine_b).get_data(as_text=True)
    mine_a = world.page("alerts", h=world.home_a, w=world.watcher_a)
    assert "異常通知一覧" in client.get(mine_a).get_data(as_text=True)
    assert "Alerts" in client.get(mine_a + "?lang=en").get_data(as_text=True)


def test_absurd_dates_in_the_query_fall_back_quietly(world: World, client: FlaskClient) -> None:
    url = world.page("usage", h=world.home_a, w=world.watcher_a)
    for q in ("?d=9999-99-99", "?d=1066-10-14&v=month", "?d=2099-01-01&v=week", "?v=<script>", "?d=%00"):
        response = client.get(url + q)
        assert response.status_code == 200, q
        assert "<script>" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ("group_a", 200),
        ("watcher_a", 403),  # a watcher link is not a building link
        ("anonymous", 403),
    ],
)
def test_the_building_overview_is_for_its_group_only(world: World, client: FlaskClient, claims: str,
                                                     status: int) -> None:
    url = {
        "group_a": world.page("building", g=world.building_a),
        "watcher_a": world.page("building", h=world.home_a, w=world.watcher_a),
        "anonymous": "/p/building/garbage",
    }[claims]
    response = client.get(url)
    assert response.status_code == status
    if status == 200:
        body = response.get_data(as_text=True)
        assert "101" in body and "202" not in body and "山田花子" not in body  # only its own building's units
        assert "&lt;script&gt;" in body
        unit_link = body.split('href="', 3)[1].split('"')[0]  # a unit's usage page, for the group
        assert client.get(unit_link).status_code == 200


def test_a_group_unlinked_from_its_building_loses_the_overview(world: World, client: FlaskClient) -> None:
    url = world.page("building", g=world.building_a)
    with session_scope() as s:
        s.get(Building, world.building_a).line_group_id = None
    assert client.get(url).status_code == 403
