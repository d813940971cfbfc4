"""A visitor without a browser: one session of the site driven through Streamlit's own protocol.

A browser speaks to a Streamlit server over one websocket
(``/_stcore/stream``): it asks for a run of the script (a ``BackMsg`` with
the page, the query string and the widgets' values) and receives the page
as ``ForwardMsg`` deltas until ``script_finished``; images arrive as
``/media/`` addresses it then fetches, and an upload goes by HTTP PUT to an
address the server hands out. :class:`Visitor` does the same in asyncio,
so dozens of sessions cost this machine almost nothing beside the server,
and what is measured is the server's work, not a browser's drawing.

Used by :mod:`benchmarks.load` (a classroom at once) and by
``tests/test_load.py`` (its small version).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import re
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileURLs, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState


@dataclass(frozen=True)
class Element:
    """One element of a page as the server sent it: its kind ("slider", "imgs", ...), its
    label or text, and its widget id (empty for what is not a widget)."""

    kind: str
    label: str
    id: str
    body: Any


@dataclass
class Reply:
    """What one run of the script sent back: the time to the last image fetched, the
    elements, the problems shown (exceptions and error boxes) and the image bytes fetched."""

    seconds: float = 0.0
    elements: list[Element] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    media_bytes: int = 0

    def find(self, kind: str, label: str) -> Element | None:
        """The first element of ``kind`` whose label starts with ``label``."""
        return next((e for e in self.elements if e.kind == kind and e.label.startswith(label)),
                    None)


class ProtocolError(RuntimeError):
    """The server answered in a way a browser would not have expected."""


def _element(delta: Any) -> Element | None:
    if delta.WhichOneof("type") != "new_element":
        return None
    element = delta.new_element
    kind = element.WhichOneof("type")
    body = getattr(element, kind)
    label = next((getattr(body, a) for a in ("label", "body", "message", "text")
                  if hasattr(body, a) and isinstance(getattr(body, a), str)), "")
    return Element(kind, label, getattr(body, "id", "") if hasattr(body, "id") else "", body)


def _problem(element: Element) -> str | None:
    if element.kind == "exception":
        return f"exception: {element.body.type}: {element.body.message}"
    if element.kind == "alert" and element.body.format == Alert.ERROR:
        return f"error shown: {element.body.body}"
    return None


class Visitor:
    """One browser tab's session of the site at ``url`` (``http://host:port``), opened with
    ``query`` as its address's query string."""

    def __init__(self, url: str, query: str = "", timeout: float = 600) -> None:
        self.url = url
        self.query = query
        self.timeout = timeout
        self.pages: dict[str, str] = {}  # url path ("" for home) -> page script hash
        self.page = ""
        self.last = Reply()
        self._states: dict[str, WidgetState] = {}
        self._socket: Any = None
        self._session_id = ""
        self._cookies = http.cookiejar.CookieJar()
        self._http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self._cookies))

    async def __aenter__(self) -> Visitor:
        host = self.url.split("://", 1)[1]
        self._socket = await websockets.connect(
            f"ws://{host}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
            origin=self.url, open_timeout=self.timeout, ping_interval=None)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._socket.close()

    # What a visitor does -------------------------------------------------------------------

    async def open(self, page: str = "") -> Reply:
        """Go to ``page`` (its url path; "" is the home page) and wait for it. The pages'
        addresses arrive with the first run, so a session's first visit opens the home page
        before going on."""
        if page and not self.pages:
            await self.run()
        self.page = page
        return await self.run()

    async def slide(self, label: str, value: float) -> Reply:
        """Move the slider labelled ``label`` (a prefix) to ``value``."""
        state = WidgetState(id=self._widget("slider", label))
        state.double_array_value.data.append(float(value))
        self._states[state.id] = state
        return await self.run()

    async def choose(self, label: str, options: list[str]) -> Reply:
        """Set the multiselect labelled ``label`` to ``options``."""
        state = WidgetState(id=self._widget("multiselect", label))
        state.string_array_value.data.extend(options)
        self._states[state.id] = state
        return await self.run()

    async def press(self, label: str) -> Reply:
        """Press the button whose label starts with ``label``; a ProtocolError if none."""
        return await self.run(WidgetState(id=self._widget("button", label), trigger_value=True))

    async def upload(self, label: str, name: str, data: bytes) -> Reply:
        """Upload ``data`` as file ``name`` through the uploader labelled ``label``."""
        widget = self._widget("file_uploader", label)
        start = time.perf_counter()
        request = BackMsg()
        request.file_urls_request.request_id = uuid.uuid4().hex
        request.file_urls_request.session_id = self._session_id
        request.file_urls_request.file_names.append(name)
        await self._socket.send(request.SerializeToString())
        urls = await self._file_urls(request.file_urls_request.request_id)
        await asyncio.to_thread(self._put, urls.upload_url, name, data)
        state = WidgetState(id=widget)
        state.file_uploader_state_value.uploaded_file_info.append(
            UploadedFileInfo(file_id=urls.file_id, name=name, size=len(data), file_urls=urls))
        self._states[widget] = state
        reply = await self.run()
        reply.seconds = time.perf_counter() - start
        return reply

    # The protocol ---------------------------------------------------------------------------

    async def run(self, trigger: WidgetState | None = None) -> Reply:
        """Ask for a run of the script with the widgets' values (and ``trigger``, a button
        pressed once); wait for it to finish and fetch its images, as a browser would."""
        start = time.perf_counter()
        message = BackMsg()
        message.rerun_script.query_string = self.query
        message.rerun_script.page_script_hash = self.pages.get(self.page, "")
        states = [*self._states.values(), *([trigger] if trigger else [])]
        message.rerun_script.widget_states.widgets.extend(states)
        await self._socket.send(message.SerializeToString())
        reply = Reply()
        async with asyncio.timeout(self.timeout):
            while True:
                update = ForwardMsg.FromString(await self._socket.recv())
                kind = update.WhichOneof("type")
                if kind == "new_session" and update.new_session.HasField("initialize"):
                    self._session_id = update.new_session.initialize.session_id
                elif kind == "navigation":
                    self.pages = {p.url_pathname: p.page_script_hash
                                  for p in update.navigation.app_pages}
                elif kind == "delta" and (element := _element(update.delta)) is not None:
                    reply.elements.append(element)
                    if (problem := _problem(element)) is not None:
                        reply.problems.append(problem)
                elif (kind == "script_finished" and update.script_finished
                      != ForwardMsg.FINISHED_EARLY_FOR_RERUN):
                    break
        images = [i.url for e in reply.elements if e.kind == "imgs" for i in e.body.imgs
                  if i.url.startswith("/media/")]
        sizes = await asyncio.gather(*(asyncio.to_thread(self._get, u) for u in images))
        reply.media_bytes = sum(sizes)
        reply.seconds = time.perf_counter() - start
        self.last = reply
        return reply

    def _widget(self, kind: str, label: str) -> str:
        found = self.last.find(kind, label)
        if found is None or not found.id:
            raise ProtocolError(f"no {kind} labelled {label!r} on the page {self.page!r}")
        return found.id

    async def _file_urls(self, request_id: str) -> FileURLs:
        async with asyncio.timeout(self.timeout):
            while True:
                update = ForwardMsg.FromString(await self._socket.recv())
                if (update.WhichOneof("type") == "file_urls_response"
                        and update.file_urls_response.response_id == request_id):
                    response = update.file_urls_response
                    if response.error_msg or not response.file_urls:
                        raise ProtocolError(f"no upload address: {response.error_msg}")
                    return response.file_urls[0]

    def _get(self, path: str) -> int:
        with self._http.open(self.url + path, timeout=self.timeout) as reply:
            return len(reply.read())

    def _put(self, path: str, name: str, data: bytes) -> None:
        """PUT ``data`` as a multipart form to ``path``, with the XSRF token from the cookie
        the server sets (the health check hands it out), as Streamlit's frontend does."""
        if not any(c.name == "_streamlit_xsrf" for c in self._cookies):
            self._get("/_stcore/health")
        token = next((c.value for c in self._cookies if c.name == "_streamlit_xsrf"), "")
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            path if path.startswith("http") else self.url + path, data=body, method="PUT",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                     "X-Xsrftoken": token})
        with self._http.open(request, timeout=self.timeout) as reply:
            if reply.status not in (200, 204):
                raise ProtocolError(f"upload refused: HTTP {reply.status}")


def cache_metrics(url: str, timeout: float = 30) -> dict[str, tuple[int, int]]:
    """Each cache of the site at ``url``: its bytes and how many computations it has run
    (lookups that missed), from Streamlit's ``/_stcore/metrics``."""
    with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=timeout) as reply:
        text = reply.read().decode()
    sizes = {m["cache"] or m["type"]: int(m["value"]) for m in re.finditer(
        r'^cache_memory_bytes\{cache_type="(?P<type>[^"]*)",cache="(?P<cache>[^"]*)"\} '
        r'(?P<value>\d+)', text, re.M)}
    misses = {m["cache"]: int(m["value"]) for m in re.finditer(
        r'^cache_lookups_total\{cache="(?P<cache>[^"]*)",[^}]*result="miss"\} (?P<value>\d+)',
        text, re.M)}
    return {name: (sizes.get(name, 0), misses.get(name, 0)) for name in sizes | misses}
