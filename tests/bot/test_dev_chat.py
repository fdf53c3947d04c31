"""/dev/chat drives the real webhook and shows what the bot sent, as a newcomer uses it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from bot.dev.line_emulator import STATE
from core.db import session_scope
from core.models import OutboxMessage
from core.texts import t


@pytest.fixture
def served(settings: Any, db: Any) -> Iterator[str]:
    """The dev app on a real port, its LINE calls going to its own emulator (as in make run)."""
    from bot.app import create_app

    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    settings.public_base_url = url
    settings.line_api_base_url = f"{url}/dev/line-api"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    STATE.reset()
    yield url
    server.shutdown()
    thread.join(5)


def test_newcomer_registers_and_acknowledges_a_simulated_alert(served: str, clock: Any) -> None:
    api = f"{served}/dev/chat/api"
    me = {"userId": "U" + "a" * 32, "displayName": "花子"}
    assert requests.get(f"{served}/dev/chat/", timeout=10).status_code == 200

    def send(**kw: Any) -> None:
        assert requests.post(f"{api}/send", json={**me, **kw}, timeout=30).json()["status"] == 200

    def messages() -> list[dict]:
        return requests.get(f"{api}/messages", params={"chat": me["userId"]}, timeout=10).json()["messages"]

    def tap(label: str, params: dict | None = None) -> None:
        for msg in reversed(messages()):
            items = [i["action"] for i in msg.get("quickReply", {}).get("items", [])]
            items += [b["action"] for b in msg.get("contents", {}).get("footer", {}).get("contents", [])]
            for action in items:
                if action["label"] == label:
                    send(kind="postback", data=action["data"], params=params)
                    return
        raise AssertionError(label)

    assert requests.post(f"{api}/simulate-alert", json=me, timeout=10).status_code == 400
    send(kind="follow")
    tap(t("roles.family"))
    tap("家族です")
    send(kind="message", text="お父さん")
    form = next(b["action"]["uri"] for m in reversed(messages())
                for b in m.get("contents", {}).get("footer", {}).get("contents", []) if b["action"]["type"] == "uri")
    assert form.startswith(f"{served}/liff/home?t=") and requests.get(form, timeout=10).status_code == 200
    fields = {"holder": "山田太郎", "postal": "1050011", "address": "東京都港区芝公園1-1",
              "phone": "09011112222", "supply_point": "0300000000000000000031", "customer_number": "5555555"}
    token = form.split("t=", 1)[1]
    assert requests.post(f"{served}/liff/api/home", json={"t": token, "fields": fields}, timeout=10).json()["ok"]
    send(kind="message", text="入力しました")
    tap("電話")
    tap("会って同意をもらった")
    tap("登録する")
    assert "お父さんのお宅を登録しました" in str(messages())
    before = len(messages())
    result = requests.post(f"{api}/simulate-alert", json={**me, "background": False}, timeout=30).json()
    assert result["steps"][:2] == ["contact_resident", "alert_family"]  # the home's real policy
    assert messages()[before:] == []  # the senior is asked first: nothing for the family yet
    for _ in range(8):  # the fast clock, one tick at a time
        if messages()[before:]:
            break
        requests.post(f"{api}/simulate-alert/step", json={"incident": result["incident"]}, timeout=30)
    [card] = messages()[before:]
    with session_scope() as s:  # byte for byte what the real push carries: it is the real push
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == me["userId"],
                                                    OutboxMessage.attempt_id.is_not(None))).one()
        assert card == row.payload["messages"][0]
    uris = [b["action"].get("uri", "") for b in card["contents"]["footer"]["contents"]]
    assert any("/graphs/" in u for u in uris) and any("/p/incident/" in u for u in uris)
    tap("対応します")
    assert messages()[-1]["text"] == t("bot.alert.acked")


def test_dev_pages_do_not_exist_in_production(settings: Any, db: Any) -> None:
    from bot.app import create_app

    prod = settings.model_copy(update={"mimamori_env": "prod"})
    client = create_app(prod).test_client()
    assert client.get("/dev/chat/").status_code == 404
    assert client.post("/dev/chat/api/simulate-alert", json={}).status_code == 404


def test_the_page_shows_the_menu_of_the_users_role(served: str, clock: Any) -> None:
    api = f"{served}/dev/chat/api"
    me = {"userId": "U" + "b" * 32, "displayName": "花子"}
    menu = requests.get(f"{api}/richmenu", params={"user": me["userId"]}, timeout=10).json()
    assert menu["role"] == "guest" and menu["areas"][0]["text"] == "登録"
    image = requests.get(f"{served}{menu['image']}", timeout=30)
    assert image.headers["Content-Type"] == "image/png" and image.content.startswith(b"\x89PNG")
    assert abs(sum(a["w"] * a["h"] for a in menu["areas"]) - 1) < 1e-9  # the areas cover the picture
    assert requests.get(f"{served}/dev/chat/richmenu/nobody.png", timeout=10).status_code == 404


def test_the_form_fills_the_address_from_the_postal_code_offline(served: str) -> None:
    found = requests.get(f"{served}/liff/api/postal/100-0001", timeout=10).json()
    assert found["address"] == "東京都千代田区千代田"
    assert requests.get(f"{served}/liff/api/postal/0000000", timeout=10).status_code == 404
