"""The rich menu is created through the API with a picture the project draws."""

from __future__ import annotations

from click.testing import CliRunner

from mimamori.cli.main import cli


def test_richmenu_command_creates_uploads_and_sets_default(fake_line, settings) -> None:
    result = CliRunner().invoke(cli, ["line", "richmenu"])
    assert result.exit_code == 0, result.output
    state = fake_line.state
    (menu_id, menu), = state.rich_menus.items()
    assert state.default_rich_menu == menu_id
    assert menu["image"].startswith(b"\x89PNG")
    texts = [a["action"]["text"] for a in menu["menu"]["areas"]]
    assert texts == ["登録", "今日の様子", "一時停止", "設定", "ヘルプ"]
    for area in menu["menu"]["areas"]:
        b = area["bounds"]
        assert b["x"] + b["width"] <= 2500 and b["y"] + b["height"] <= 1686
