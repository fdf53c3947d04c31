"""Rich menus per role are created through the API with pictures the project draws, found by
alias, and each user gets the menu of their role when it changes."""

from __future__ import annotations

from click.testing import CliRunner

from bot import richmenu
from core.texts import t
from mimamori.cli.main import cli
from tests.bot.test_conversations import register


def _create(fake_line) -> dict[str, str]:
    result = CliRunner().invoke(cli, ["line", "richmenu"])
    assert result.exit_code == 0, result.output
    return dict(fake_line.state.rich_menu_aliases)


def test_richmenu_command_creates_every_role_with_an_alias_and_the_guest_default(fake_line, settings) -> None:
    aliases = _create(fake_line)
    state = fake_line.state
    assert set(aliases) == {f"mimamori-{r}" for r in richmenu.ROLES}
    assert state.default_rich_menu == aliases["mimamori-guest"]
    for role in richmenu.ROLES:
        menu = state.rich_menus[aliases[f"mimamori-{role}"]]
        assert menu["image"].startswith(b"\x89PNG")
        texts = [a["action"]["text"] for a in menu["menu"]["areas"]]
        assert texts == [t(f"bot.menu.{a.key}", "ja") for a in richmenu.areas(role)]
        size = menu["menu"]["size"]
        covered = sum(a["bounds"]["width"] * a["bounds"]["height"] for a in menu["menu"]["areas"])
        assert covered == size["width"] * size["height"]  # no dead zone, no overlap
    family = [a["action"]["text"] for a in state.rich_menus[aliases["mimamori-family"]]["menu"]["areas"]]
    assert "今日の様子" in family and "登録内容" in family
    guest = [a["action"]["text"] for a in state.rich_menus[aliases["mimamori-guest"]]["menu"]["areas"]]
    assert guest[0] == "登録"


def test_creating_again_moves_the_aliases_to_the_new_menus(fake_line, settings) -> None:
    first = _create(fake_line)
    second = _create(fake_line)
    assert set(first) == set(second) and all(first[k] != second[k] for k in first)


def test_a_family_member_gets_the_family_menu_once_registered_and_the_senior_theirs(
        fake_line, settings, chat, chat_factory, clock) -> None:
    aliases = _create(fake_line)
    register(chat, contact="LINE")
    assert fake_line.state.user_rich_menus[chat.user_id] == aliases["mimamori-family"]
    code = chat.new_texts().split("コード：")[1].split("（")[0]
    senior = chat_factory()
    senior.text(f"参加 {code}")
    assert fake_line.state.user_rich_menus[senior.user_id] == aliases["mimamori-senior"]


def test_without_menus_set_up_registration_still_finishes(fake_line, chat, clock) -> None:
    register(chat)
    assert "お父さんのお宅を登録しました" in chat.new_texts()
    assert chat.user_id not in fake_line.state.user_rich_menus
