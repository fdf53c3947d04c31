"""A local LINE Messaging API: records what the bot sends and refuses what LINE would.

Mounted at ``/dev/line-api`` in dev (so ``make run`` works with no credentials) and
served on its own port in tests (:class:`FakeLineServer`). It checks the limits
LINE documents — at most 5 messages per call, 13 quick-reply items, altText of at
most 400 characters, text of at most 5,000, a valid Flex container — honours
``X-Line-Retry-Key`` (a repeated key answers 409), and can be told to answer 429/500.
Besides sending it takes the loading animation and mark-as-read (by the webhook's
``markAsReadToken``) as messaging-api.yml describes them.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

from core import clock

QUOTA_EXHAUSTED = -429  # fail_next(QUOTA_EXHAUSTED): LINE's "monthly limit" 429
MAX_MESSAGES = 5
MAX_QUICK_REPLY = 13
MAX_ALT_TEXT = 400
MAX_TEXT = 5000
MAX_CAROUSEL = 12
MESSAGE_TYPES = {"text", "image", "video", "audio", "location", "sticker", "imagemap", "template", "flex"}
FLEX_COMPONENTS = {"box", "button", "image", "icon", "text", "span", "separator", "filler", "video"}


@dataclass
class SentCall:
    """One accepted API call: kind is push, reply or multicast."""

    kind: str
    to: list[str]
    messages: list[dict[str, Any]]
    retry_key: str | None
    request_id: str
    at: str
    reply_token: str | None = None


@dataclass
class EmulatorState:
    calls: list[SentCall] = field(default_factory=list)
    retry_keys: dict[str, str] = field(default_factory=dict)
    forced_statuses: list[int] = field(default_factory=list)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    rich_menus: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_rich_menu: str | None = None
    rich_menu_aliases: dict[str, str] = field(default_factory=dict)  # alias -> menu id
    user_rich_menus: dict[str, str] = field(default_factory=dict)  # user id -> menu id
    rejected: list[dict[str, Any]] = field(default_factory=list)
    reply_tokens: dict[str, str] = field(default_factory=dict)  # token -> chat it was issued to
    read_tokens: dict[str, str] = field(default_factory=dict)  # markAsReadToken -> chat it was issued to
    signals: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # ("loading" | "read", body)
    # Extra checks of a request body (kind, body) -> list of problems; tests add LINE's OpenAPI schema.
    body_checks: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def messages_to(self, chat_id: str) -> list[dict[str, Any]]:
        """Every message pushed (or multicast) to ``chat_id``, oldest first."""
        return [m for c in self.calls if chat_id in c.to for m in c.messages]

    def issue_reply_token(self, chat_id: str) -> str:
        """A reply token for an event the emulator delivers from ``chat_id`` (single use)."""
        token = uuid.uuid4().hex
        with self.lock:
            self.reply_tokens[token] = chat_id
        return token

    def issue_read_token(self, chat_id: str) -> str:
        """A markAsReadToken for a message event the emulator delivers from ``chat_id``."""
        token = uuid.uuid4().hex
        with self.lock:
            self.read_tokens[token] = chat_id
        return token

    def pushes(self) -> list[SentCall]:
        """Calls LINE counts against the month's quota (push and multicast); replies are free."""
        return [c for c in self.calls if c.kind in {"push", "multicast"}]

    def signalled(self, kind: str) -> list[dict[str, Any]]:
        """Bodies of the accepted loading-animation ("loading") or mark-as-read ("read") calls."""
        return [body for k, body in self.signals if k == kind]

    def replies(self) -> list[SentCall]:
        return [c for c in self.calls if c.kind == "reply"]

    def fail_next(self, *statuses: int) -> None:
        """Answer the next calls with these HTTP statuses (e.g. 429, 500)."""
        with self.lock:
            self.forced_statuses.extend(statuses)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.retry_keys.clear()
            self.forced_statuses.clear()
            self.rejected.clear()
            self.signals.clear()


class MessageRejected(Exception):
    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


def _check_flex(node: Any, path: str) -> None:
    if not isinstance(node, dict) or "type" not in node:
        raise MessageRejected("A flex component must be an object with a type", [{"property": path}])
    kind = node["type"]
    if kind == "carousel":
        contents = node.get("contents")
        if not isinstance(contents, list) or not 1 <= len(contents) <= MAX_CAROUSEL:
            raise MessageRejected("carousel needs 1 to 12 bubbles", [{"property": f"{path}.contents"}])
        for i, bubble in enumerate(contents):
            if bubble.get("type") != "bubble":
                raise MessageRejected("carousel holds bubbles only", [{"property": f"{path}.contents[{i}]"}])
            _check_flex(bubble, f"{path}.contents[{i}]")
        return
    if kind == "bubble":
        for block in ("header", "hero", "body", "footer"):
            if block in node:
                _check_flex(node[block], f"{path}.{block}")
        return
    if kind not in FLEX_COMPONENTS:
        raise MessageRejected(f"unknown flex component {kind!r}", [{"property": f"{path}.type"}])
    if kind == "box":
        if node.get("layout") not in {"horizontal", "vertical", "baseline"}:
            raise MessageRejected("box needs a layout", [{"property": f"{path}.layout"}])
        if not isinstance(node.get("contents"), list):
            raise MessageRejected("box needs contents", [{"property": f"{path}.contents"}])
        for i, child in enumerate(node["contents"]):
            _check_flex(child, f"{path}.contents[{i}]")
    elif kind == "text" and not node.get("text") and not node.get("contents"):
        raise MessageRejected("text component needs text", [{"property": f"{path}.text"}])
    elif kind == "button" and not isinstance(node.get("action"), dict):
        raise MessageRejected("button needs an action", [{"property": f"{path}.action"}])
    elif kind == "image" and not str(node.get("url", "")).startswith("https://") and not _dev_url(node):
        raise MessageRejected("image url must be https", [{"property": f"{path}.url"}])


def _dev_url(node: dict[str, Any]) -> bool:
    """The emulator accepts http:// images from this machine, as a local LINE would need to."""
    url = str(node.get("url", ""))
    return url.startswith(("http://127.0.0.1", "http://localhost"))


def validate_messages(messages: Any) -> None:
    """Raise MessageRejected for anything the real LINE API would refuse."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        raise MessageRejected("messages must hold 1 to 5 messages", [{"property": "messages"}])
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict) or msg.get("type") not in MESSAGE_TYPES:
            raise MessageRejected("unknown message type", [{"property": f"{where}.type"}])
        kind = msg["type"]
        if kind == "text":
            text = msg.get("text")
            if not isinstance(text, str) or not text or len(text) > MAX_TEXT:
                raise MessageRejected("text must be 1 to 5000 characters", [{"property": f"{where}.text"}])
        elif kind == "image":
            for key in ("originalContentUrl", "previewImageUrl"):
                if not msg.get(key) or (not str(msg[key]).startswith("https://") and not _dev_url({"url": msg[key]})):
                    raise MessageRejected(f"{key} must be an https URL", [{"property": f"{where}.{key}"}])
        elif kind in {"flex", "template"}:
            alt = msg.get("altText")
            if not isinstance(alt, str) or not alt or len(alt) > MAX_ALT_TEXT:
                raise MessageRejected("altText must be 1 to 400 characters", [{"property": f"{where}.altText"}])
            if kind == "flex":
                _check_flex(msg.get("contents"), f"{where}.contents")
        quick = msg.get("quickReply")
        if quick is not None:
            items = quick.get("items") if isinstance(quick, dict) else None
            if not isinstance(items, list) or not 1 <= len(items) <= MAX_QUICK_REPLY:
                raise MessageRejected("quickReply needs 1 to 13 items", [{"property": f"{where}.quickReply.items"}])
            for j, item in enumerate(items):
                if item.get("type") != "action" or not isinstance(item.get("action"), dict):
                    raise MessageRejected("quick reply item needs an action",
                                          [{"property": f"{where}.quickReply.items[{j}]"}])


def create_blueprint(state: EmulatorState | None = None) -> Blueprint:
    """The API routes, recording into ``state`` (the process-wide one by default)."""
    st = state or STATE
    bp = Blueprint("line_emulator", __name__)
    bp.record_once(lambda s: s.app.extensions.__setitem__("line_emulator", st))

    def _error(status: int, message: str, details: list[dict[str, str]] | None = None) -> Any:
        body: dict[str, Any] = {"message": message}
        if details:
            body["details"] = details
        return jsonify(body), status

    def _gate() -> Any | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or len(auth) <= len("Bearer "):
            return _error(401, "Authentication failed")
        with st.lock:
            forced = st.forced_statuses.pop(0) if st.forced_statuses else None
        if forced == 429:
            return _error(429, "Too Many Requests")
        if forced == QUOTA_EXHAUSTED:
            return _error(429, "You have reached your monthly limit.")
        if forced is not None:
            return _error(forced, "Internal Server Error")
        return None

    def _send(kind: str, to: list[str], reply_token: str | None = None) -> Any:
        if (refused := _gate()) is not None:
            return refused
        body = request.get_json(silent=True) or {}
        retry_key = request.headers.get("X-Line-Retry-Key")
        if retry_key is not None:
            try:
                uuid.UUID(retry_key)
            except ValueError:
                return _error(400, "The value of the X-Line-Retry-Key header is invalid")
        with st.lock:
            if retry_key and retry_key in st.retry_keys:
                resp = jsonify(message="The retry key is already accepted")
                resp.headers["x-line-accepted-request-id"] = st.retry_keys[retry_key]
                return resp, 409
        try:
            validate_messages(body.get("messages"))
            for check in st.body_checks:
                if problems := check(kind, body):
                    raise MessageRejected("request body does not match LINE's schema",
                                          [{"property": p} for p in problems])
        except MessageRejected as exc:
            st.rejected.append({"kind": kind, "body": body, "error": str(exc)})
            return _error(400, str(exc), exc.details)
        request_id = uuid.uuid4().hex
        call = SentCall(kind, to, body["messages"], retry_key, request_id, clock.now().isoformat(), reply_token)
        with st.lock:
            st.calls.append(call)
            if retry_key:
                st.retry_keys[retry_key] = request_id
        resp = jsonify(sentMessages=[{"id": uuid.uuid4().hex[:18], "quoteToken": uuid.uuid4().hex}
                                     for _ in body["messages"]])
        resp.headers["x-line-request-id"] = request_id
        return resp, 200

    @bp.post("/v2/bot/message/push")
    def push() -> Any:
        body = request.get_json(silent=True) or {}
        if not isinstance(body.get("to"), str) or not body["to"]:
            return _error(400, "The property, 'to', in the request body is invalid")
        return _send("push", [body["to"]])

    @bp.post("/v2/bot/message/reply")
    def reply() -> Any:
        body = request.get_json(silent=True) or {}
        token = body.get("replyToken")
        if not isinstance(token, str) or not token:
            return _error(400, "Invalid reply token")
        with st.lock:
            chat_id = st.reply_tokens.pop(token, None)
        if chat_id is None:
            return _error(400, "Invalid reply token")
        return _send("reply", [chat_id], reply_token=token)

    @bp.post("/v2/bot/message/multicast")
    def multicast() -> Any:
        body = request.get_json(silent=True) or {}
        to = body.get("to")
        if not isinstance(to, list) or not 1 <= len(to) <= 500:
            return _error(400, "The property, 'to', in the request body is invalid")
        return _send("multicast", [str(t) for t in to])

    def _checked(kind: str, body: dict[str, Any]) -> Any | None:
        for check in st.body_checks:
            if problems := check(kind, body):
                st.rejected.append({"kind": kind, "body": body, "error": "schema"})
                return _error(400, "request body does not match LINE's schema", [{"property": p} for p in problems])
        return None

    @bp.post("/v2/bot/chat/loading/start")
    def loading_start() -> Any:
        """The typing-dots animation in a one-to-one chat, shown until the next message or the time is up."""
        if (refused := _gate()) is not None:
            return refused
        body = request.get_json(silent=True) or {}
        if (bad := _checked("loading", body)) is not None:
            return bad
        seconds = body.get("loadingSeconds", 20)
        chat = body.get("chatId")
        if not isinstance(chat, str) or not chat.startswith("U") or not isinstance(seconds, int) \
                or isinstance(seconds, bool) or not 5 <= seconds <= 60 or seconds % 5:
            st.rejected.append({"kind": "loading", "body": body, "error": "invalid"})
            return _error(400, "An invalid chat ID is specified, or the loadingSeconds value is invalid.")
        with st.lock:
            st.signals.append(("loading", body))
        return jsonify({}), 202

    @bp.post("/v2/bot/chat/markAsRead")
    def mark_as_read() -> Any:
        """Mark a user's messages read with the token their message event carried."""
        if (refused := _gate()) is not None:
            return refused
        body = request.get_json(silent=True) or {}
        if (bad := _checked("read", body)) is not None:
            return bad
        token = body.get("markAsReadToken")
        with st.lock:
            known = isinstance(token, str) and token in st.read_tokens
            if known:
                st.signals.append(("read", body))
        if not known:
            st.rejected.append({"kind": "read", "body": body, "error": "unknown token"})
            return _error(400, "An invalid markAsReadToken is specified.")
        return jsonify({}), 200

    @bp.get("/v2/bot/profile/<user_id>")
    def profile(user_id: str) -> Any:
        if (refused := _gate()) is not None:
            return refused
        prof = st.profiles.get(user_id, {"displayName": "LINE User", "language": "ja"})
        return jsonify({"userId": user_id, **prof})

    @bp.get("/v2/bot/group/<group_id>/member/<user_id>")
    def group_member(group_id: str, user_id: str) -> Any:
        if (refused := _gate()) is not None:
            return refused
        prof = st.profiles.get(user_id, {"displayName": "LINE User"})
        return jsonify({"userId": user_id, "displayName": prof.get("displayName", "LINE User")})

    @bp.get("/v2/bot/message/quota")
    def quota() -> Any:
        return jsonify(type="none")

    @bp.get("/v2/bot/message/quota/consumption")
    def consumption() -> Any:
        return jsonify(totalUsage=len(st.calls))

    @bp.post("/v2/bot/richmenu")
    def create_rich_menu() -> Any:
        if (refused := _gate()) is not None:
            return refused
        menu_id = f"richmenu-{uuid.uuid4().hex}"
        st.rich_menus[menu_id] = {"menu": request.get_json(silent=True) or {}, "image": None}
        return jsonify(richMenuId=menu_id)

    @bp.post("/v2/bot/richmenu/<menu_id>/content")
    def upload_rich_menu_image(menu_id: str) -> Any:
        if menu_id not in st.rich_menus:
            return _error(404, "Not found")
        if request.content_type not in {"image/png", "image/jpeg"}:
            return _error(400, "image must be PNG or JPEG")
        st.rich_menus[menu_id]["image"] = request.get_data()
        return jsonify({})

    @bp.post("/v2/bot/user/all/richmenu/<menu_id>")
    def set_default_rich_menu(menu_id: str) -> Any:
        if menu_id not in st.rich_menus:
            return _error(404, "Not found")
        st.default_rich_menu = menu_id
        return jsonify({})

    @bp.post("/v2/bot/richmenu/alias")
    def create_alias() -> Any:
        body = request.get_json(silent=True) or {}
        alias, menu_id = body.get("richMenuAliasId"), body.get("richMenuId")
        if menu_id not in st.rich_menus or not alias:
            return _error(400, "richMenuId not found")
        if alias in st.rich_menu_aliases:
            return _error(400, "conflict richmenu alias id")
        st.rich_menu_aliases[alias] = menu_id
        return jsonify({})

    @bp.post("/v2/bot/richmenu/alias/<alias>")
    def update_alias(alias: str) -> Any:
        menu_id = (request.get_json(silent=True) or {}).get("richMenuId")
        if alias not in st.rich_menu_aliases or menu_id not in st.rich_menus:
            return _error(400, "richmenu alias not found")
        st.rich_menu_aliases[alias] = menu_id
        return jsonify({})

    @bp.get("/v2/bot/richmenu/alias/<alias>")
    def get_alias(alias: str) -> Any:
        if alias not in st.rich_menu_aliases:
            return _error(404, "richmenu alias not found")
        return jsonify(richMenuAliasId=alias, richMenuId=st.rich_menu_aliases[alias])

    @bp.post("/v2/bot/user/<user_id>/richmenu/<menu_id>")
    def link_user(user_id: str, menu_id: str) -> Any:
        if menu_id not in st.rich_menus:
            return _error(400, "richmenu not found")
        st.user_rich_menus[user_id] = menu_id
        return jsonify({})

    @bp.delete("/v2/bot/user/<user_id>/richmenu")
    def unlink_user(user_id: str) -> Any:
        st.user_rich_menus.pop(user_id, None)
        return jsonify({})

    return bp


STATE = EmulatorState()


class FakeLineServer:
    """The emulator on its own port, for tests: ``with FakeLineServer() as line: line.url``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.state = EmulatorState()
        app = Flask("fake_line")
        app.register_blueprint(create_blueprint(self.state))
        self._server: BaseWSGIServer = make_server(host, 0, app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeLineServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@contextmanager
def running_fake_line() -> Iterator[FakeLineServer]:
    with FakeLineServer() as server:
        yield server
