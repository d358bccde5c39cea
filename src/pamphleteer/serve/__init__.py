"""``pamphleteer serve``: the kit as live page proofs in a browser, rebuilt on every save.

The build runs in the main thread (its per-output timeout is a SIGALRM), in-process with
a warm renderer, through the same incremental cache as ``build``; the web server runs in
a thread beside it. Each output that finishes is proofed at once and bumps the revision
the page polls, so the first rebuilt page shows before the rest are done. The server
answers only for its own static files, the proofs folder and the JSON API, and only to
requests addressed to it by name (see ``allowed_hosts``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import queue
import re
import signal
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from pamphleteer.check import Finding
from pamphleteer.errors import PamphleteerError, UsageError
from pamphleteer.outputs import Manifest
from pamphleteer.pipeline import Job, Output, build, failure, output_files
from pamphleteer.proofs import PROOFS, Page, render_proofs
from pamphleteer.targets import plan

STATIC = Path(__file__).parent / "static"
#: The kit's layouts from the largest type to the smallest: after a save, the outputs
#: where the change shows most are rebuilt (and refreshed) first. Others come last.
MOST_VISIBLE_FIRST = ("placard", "poster", "flyer", "leaflet", "booklet")
_PAGE_IN_ERROR = re.compile(r": page (\d+):")
#: How long a poll that names the revision it has waits for a newer one before it is
#: answered with the same (well under the browser's and the proxies' time limits).
LONG_POLL_S = 20.0
_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".js": "text/javascript; charset=utf-8", ".png": "image/png",
          ".svg": "image/svg+xml"}


class Cancelled(BaseException):
    """A save arrived while a build ran: the build stops where it is, and the next one,
    which sees the save, starts at once. A BaseException, so that no handler meant for
    a build's failures stops it."""


class Live:
    """What the page shows: every output's proofs and findings, the build's error, and a
    revision that grows with every change, so a poll can tell that something moved."""

    def __init__(self, job: Job, dpi: float):
        self.job = job
        self.dpi = dpi
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)  # notified with every new revision
        self.revision = 0
        self._json: tuple[int, bytes] = (-1, b"")  # the snapshot of a revision, as sent
        self.error: str | None = None
        self.building = False
        self.focus: str | None = None  # the output open in the page's large view
        self.entries: dict[str, dict] = {}  # by file
        self.order: list[str] = []  # files in the order of the kit: layout, size, variant
        self.recorded: dict[str, list[dict]] = {}  # findings in the manifest, by file

    @property
    def proofs_dir(self) -> Path:
        return self.job.out_dir / PROOFS

    def _snapshot(self) -> dict:
        return {"revision": self.revision, "error": self.error, "building": self.building,
                "outputs": [self.entries[f] for f in self.order if f in self.entries]}

    def snapshot_json(self, since: int | None = None, wait: float = LONG_POLL_S) -> bytes:
        """The snapshot as the API sends it. With ``since``, the revision the page has,
        the answer waits (up to ``wait`` seconds) for a newer one: the page hears of a
        new proof the moment it is published, and a page that polls while nothing
        changes costs nothing. Encoded once per revision, however many pages poll: a
        busy poller must not take the build's time."""
        with self.changed:
            if since is not None:
                self.changed.wait_for(lambda: self.revision != since, wait)
            if self._json[0] != self.revision:
                self._json = (self.revision, json.dumps(self._snapshot()).encode())
            return self._json[1]

    def _bump(self) -> None:
        """A new revision (the lock held): what the page shows has changed."""
        self.revision += 1
        self.changed.notify_all()

    def look_at(self, file: str | None) -> None:
        """The page opened ``file`` in its large view (None: closed it): the next build
        makes it first."""
        with self.lock:
            self.focus = file if file in self.order else None

    def fail(self, message: str) -> None:
        """Show ``message`` in the page's banner; the last good proofs stay."""
        self._set(error=message)

    def _set(self, **changes) -> None:
        with self.lock:
            if any(getattr(self, k) != v for k, v in changes.items()):
                self._bump()
            for key, value in changes.items():
                setattr(self, key, value)

    def _entry(self, output: Output, pages: list[Page] | None) -> dict:
        """An output as the page needs it; without ``pages``, its last good proofs."""
        from pamphleteer.typeset import geometry

        t = output.target
        old = self.entries.get(t.file, {})
        if output.error:
            page = _PAGE_IN_ERROR.search(output.error)
            findings = [Finding("error", "build", t.file, int(page[1]) if page else None,
                                output.error).as_dict()]
        elif output.skipped:  # its preflight findings are as the manifest recorded them
            findings = self.recorded.get(t.file, [])
        else:
            findings = [f.as_dict() for f in output.findings]
        shown = old.get("pages", []) if pages is None else [
            {**dataclasses.asdict(p), "png": f"/{PROOFS}/{p.png}?v={p.digest[:16]}"}
            for p in pages]
        return {
            "file": t.file, "layout": t.layout.name, "size": t.size.name,
            "variant": "imposed" if t.imposition else "tiled" if t.tiling else t.variant.name,
            # An imposed or tiled file's trim is its sheet, which only its pages know.
            "trim_mm": list(shown[0]["trim_mm"][2:]) if shown
            else [t.size.width_mm, t.size.height_mm],
            "safe_mm": None if t.imposition or t.tiling else geometry(t, self.job.project)["safe"],
            "pages": shown,
            "findings": findings,
        }

    def on_output(self, output: Output, index: int, total: int) -> None:
        """Proof an output as soon as it is built (or found unchanged) and publish it."""
        pages = None
        if output.error is None:
            try:
                # An image output's pages are its cards: each a proof of its own.
                pages = [page for file in output_files(self.job.out_dir, output.target)
                         for page in render_proofs(self.job.out_dir / file,
                                                   self.proofs_dir, self.dpi)]
            except PamphleteerError as e:
                output.error = e.format_message()
            except Exception as e:  # PDFium failing on a page of a damaged file, say
                output.error = f"{output.target.file}: {one_line(e)}"
        entry = self._entry(output, pages)
        with self.lock:
            if self.entries.get(output.target.file) != entry:
                self.entries[output.target.file] = entry
                self._bump()

    def rebuild(self, job: Job) -> None:
        """Build what changed, most visible first; a failure becomes the page's banner.

        Any failure, a bug included: serve must outlive it to show the next save's build.
        """
        self.job = job
        self._set(building=True)
        try:
            targets = plan(job.project, job.targets, job.variants)
            # Imposed files last: they close their size's row, after the files they show.
            order = [t.file for t in targets + [i for t in targets for i in t.impositions()]]
            with self.lock:
                if self.order != order:
                    self.order = order
                    self._bump()
            self.recorded = recorded_findings(job.out_dir)
            failed = failure(build(job, self.on_output))
            self._set(error=failed.format_message() if failed else None, building=False)
        except Exception as e:
            self._set(error=one_line(e), building=False)
        finally:
            # Cancelled: the error shown stays until the next build says otherwise. No
            # longer building, a save's signal cannot interrupt what runs between builds.
            self._set(building=False)


def one_line(e: Exception) -> str:
    """What the page shows for ``e``: a PamphleteerError's own message, which says what to
    fix; any other exception is a bug, named by its type, as there is no fix to suggest."""
    if isinstance(e, PamphleteerError):
        return e.format_message()
    message = " ".join(str(e).split()) or "no message"
    return f"{type(e).__name__}: {message} (a bug in pamphleteer; please report it)"


def recorded_findings(out_dir: Path) -> dict[str, list[dict]]:
    """The preflight findings the manifest holds for each output (none if unreadable)."""
    try:
        entries = Manifest.read(out_dir, files=False).entries
    except UsageError:
        return {}
    return {file: entry.get("findings", []) for file, entry in entries.items()}


# --- the web server -------------------------------------------------------------------


def contained(root: Path, relative: str) -> Path | None:
    """``root/relative`` if it is a file inside ``root`` (symlinks resolved), else None.

    ``relative`` is still URL-encoded: it is decoded once here, and anything that could
    step outside (``..``, an absolute path, a NUL, a backslash) is refused outright,
    before the resolved path is checked for containment as well.
    """
    relative = unquote(relative)
    parts = relative.split("/")
    if ("\0" in relative or "\\" in relative or relative.startswith("/")
            or any(p in ("", ".", "..") for p in parts)):
        return None
    root = root.resolve()
    try:
        path = (root / relative).resolve()
        return path if path.is_relative_to(root) and path.is_file() else None
    except (OSError, RuntimeError):  # a name too long for the system, a symlink loop
        return None


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The Host headers serve answers: ``host`` and ``port`` as a browser writes them,
    and on loopback its other loopback names too; without the port only for port 80.

    DNS rebinding: a page on another site can point its own name at this address and
    then read the proofs as same-origin. Its requests still carry its own name in Host.
    """
    host = host.lower()
    names = {host}
    with contextlib.suppress(ValueError):
        if host == "localhost" or ipaddress.ip_address(host).is_loopback:
            names |= {"127.0.0.1", "localhost", "::1"}
    names = {f"[{n}]" if ":" in n else n for n in names}  # an IPv6 address in brackets
    return frozenset({f"{n}:{port}" for n in names} | (names if port == 80 else set()))


def make_server(live: Live, host: str, port: int) -> ThreadingHTTPServer:
    """A threaded server for ``live``; ``port`` 0 picks a free one."""

    class Handler(BaseHTTPRequestHandler):
        server_version, sys_version = "pamphleteer", ""
        timeout = 30  # seconds: a client that connects and says nothing is let go
        error_content_type = "text/plain; charset=utf-8"
        error_message_format = "%(code)d %(message)s: %(explain)s\n"

        def parse_request(self) -> bool:
            """Refuse, whatever the method and path, a request not addressed to serve."""
            if not super().parse_request():
                return False
            given = self.headers.get_all("Host", [])
            if len(given) != 1 or given[0].lower() not in hosts:
                self.send_error(HTTPStatus.MISDIRECTED_REQUEST, explain="the Host is not "
                                "the address serve listens on (its --host and --port)")
                return False
            return True

        def do_GET(self):  # noqa: N802 (the name http.server calls)
            try:
                self._get(urlsplit(self.path))
            except Exception as e:  # a bug: this request says so, the server goes on
                self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR, explain=one_line(e))

        def _get(self, url: SplitResult) -> None:
            if url.path == "/api/outputs":
                query = parse_qs(url.query)
                live.look_at(query.get("focus", [None])[0])
                since = query.get("since", [""])[0]
                return self._send(live.snapshot_json(int(since) if since.isdigit() else None),
                                  "application/json", "no-store")
            if url.path == "/":
                file = STATIC / "index.html"
            elif url.path.startswith("/static/"):
                file = contained(STATIC, url.path.removeprefix("/static/"))
            elif url.path.startswith(f"/{PROOFS}/"):
                file = contained(live.proofs_dir, url.path.removeprefix(f"/{PROOFS}/"))
            else:
                file = None
            if file is None or file.suffix not in _TYPES:
                return self.send_error(HTTPStatus.NOT_FOUND)
            try:
                data = file.read_bytes()
            except OSError:
                return self.send_error(HTTPStatus.NOT_FOUND)
            # A proof's URL carries its digest, so the browser may keep it for good.
            cache = "max-age=31536000, immutable" if "v=" in url.query else "no-cache"
            self._send(data, _TYPES[file.suffix], cache)

        def _send(self, data: bytes, kind: str, cache: str) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", cache)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # one line per request would drown the URL
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass  # a client that hung up or sent garbage: its thread ends, the server stays

    server = Server((host, port), Handler)
    hosts = allowed_hosts(host, server.server_address[1])  # the port it has, if 0 was asked
    return server


# --- watching -------------------------------------------------------------------------


def watched(job: Job) -> list[Path]:
    """What a build reads: the content, the layouts (the project's and the built-in
    ones), the fonts and ``pamphleteer.toml``."""
    p = job.project
    return [job.content_dir, *p.layout_roots(), p.fonts_dir, p.root / "pamphleteer.toml"]


def _watch(job: Job, make_job: Callable[[], Job], saves: queue.Queue, stop: threading.Event,
           fail: Callable[[str], None], saved: Callable[[], None]) -> None:
    """Put the paths each save changed into ``saves``, and call ``saved``, until ``stop``.

    Runs in its own thread, started before the first build, so a save made while a build
    runs is never missed. A short debounce: an editor's save is a burst of events within
    a few milliseconds, and every millisecond waited here is one the page refreshes later.
    When ``pamphleteer.toml`` changes the watch starts over, on the folders it now names
    (an editor may also have replaced the file, leaving the old watch on nothing). If the
    watch itself fails, ``fail`` shows why and it starts over, after a pause so that a
    lasting failure does not spin.
    """
    from watchfiles import DefaultFilter, watch

    while not stop.is_set():
        config = str(job.project.root / "pamphleteer.toml")
        # Never the output folder, should it lie inside a watched one: each build would
        # set off the next.
        ignore = DefaultFilter(ignore_paths=[job.out_dir])
        try:
            for found in watch(*[p for p in watched(job) if p.exists()], watch_filter=ignore,
                               debounce=40, step=10, stop_event=stop):
                paths = {path for _, path in found}
                saves.put(paths)
                saved()
                if config in paths:
                    break
        except Exception as e:
            fail(f"watching for saves: {one_line(e)}")
            stop.wait(1)
        with contextlib.suppress(Exception):  # the next rebuild, reading it too, reports it
            job = make_job()


def warm_up(job: Job) -> None:
    """Pay this process's renderer start-up now rather than on the first save (the first
    build ran in worker processes): imports, fonts, WeasyPrint's own stylesheets."""
    from pamphleteer.render import Renderer

    Renderer(job.project.fonts_dir).layout("<p>warm</p>", job.project.root, "warm-up", ())


def run(live: Live, make_job: Callable[[], Job], stop: threading.Event | None = None) -> None:
    """Build, then rebuild after every save until ``stop`` is set (or Ctrl-C).

    ``make_job`` reads the project again each time, so an edit to ``pamphleteer.toml``
    counts too. A save made during a build cancels it (see ``Cancelled``): what it
    finished is kept, and the next build, which has every save, starts at once with
    the output open in the large view, then the largest type.
    """
    stop = stop or threading.Event()
    job = make_job()
    saves: queue.Queue = queue.Queue()
    saved = _canceller(live)
    threading.Thread(target=_watch, args=(job, make_job, saves, stop, live.fail, saved),
                     daemon=True).start()
    try:
        with contextlib.suppress(Cancelled):
            live.rebuild(job)  # the first build may use every core; rebuilds stay in-process
        with contextlib.suppress(Exception):  # only for speed; the next rebuild reports it
            warm_up(job)
        while not stop.is_set():
            # All of it in the try: a save's signal that comes as a cancelled build ends
            # must cancel no more than that build, not end the loop.
            try:
                saves.get(timeout=0.2)
                while not saves.empty():
                    saves.get_nowait()
                job = make_job()
                first = (*([live.focus] if live.focus else []), *MOST_VISIBLE_FIRST)
                live.rebuild(dataclasses.replace(job, jobs=1, first=first))
            except (queue.Empty, Cancelled):
                continue
            except Exception as e:  # reading the project again; rebuild reports its own
                live.fail(one_line(e))
    finally:
        stop.set()


def _canceller(live: Live) -> Callable[[], None]:
    """What the watcher calls on a save: interrupt the build running in this (the main)
    thread, through a signal, the one way to stop Python code from another thread.
    Elsewhere (a test driving ``run`` from another thread) saves just queue up."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    main = threading.main_thread().ident

    def cancel(signum, frame):
        if live.building:
            raise Cancelled

    signal.signal(signal.SIGUSR1, cancel)
    return lambda: live.building and signal.pthread_kill(main, signal.SIGUSR1)
