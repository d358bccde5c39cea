"""``pamphleteer serve``: the JSON API, errors on the page, and serving only its own files.

One server for the module, over a copy of the project; requests go over real sockets.
"""

from __future__ import annotations

import http.client
import json
import queue
import shutil
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pikepdf
import pytest

from helpers import (
    CONTENT,
    SERVE_FILES,
    assert_clean_failure,
    copy_project,
    edit_file,
    run,
    serving,
)
from pamphleteer import pipeline, proofs, serve
from pamphleteer.config import load_project


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("serve")) as served:
        yield served


def raw(served, request: bytes) -> bytes:
    """Send ``request`` as it is (no client library to tidy it up); return the reply."""
    url = urlsplit(served.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)  # then hang up, as a client may at any point
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def status(served, path: str) -> int:
    host = urlsplit(served.url).netloc
    reply = raw(served, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                .encode())
    return int(reply.split(b" ", 2)[1])


def get(served, path: str, headers: dict[str, str] | None = None,
        method: str = "GET") -> http.client.HTTPResponse:
    """The reply to ``method path``; a ``Host`` in ``headers`` replaces the right one."""
    url = urlsplit(served.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.request(method, path, headers=headers or {})
    return connection.getresponse()


def test_api_lists_every_output_with_its_pages(served):
    data = served.api()
    assert data["error"] is None
    assert isinstance(data["revision"], int) and data["revision"] > 0
    assert sorted(o["file"] for o in data["outputs"]) == sorted(SERVE_FILES)
    out = served.project / "dist"
    for output in data["outputs"]:
        assert output["findings"] == []
        assert {"layout", "size", "variant"} <= output.keys()
        with pikepdf.open(out / output["file"]) as pdf:
            pages = len(pdf.pages)
        if output["variant"] == "riso":  # two drums a page, then each page's composite
            composites = [f"{n} composite" for n in range(1, pages // 2 + 1)]
            assert [p["label"] for p in output["pages"][pages:]] == composites
            pages += len(composites)
        assert len(output["pages"]) == pages, output["file"]
        for page in output["pages"]:
            assert "?v=" in page["png"], "a proof's URL must change when the proof does"
            response = get(served, page["png"])
            assert response.status == 200
            assert response.getheader("Content-Type") == "image/png"
            assert response.read().startswith(b"\x89PNG\r\n\x1a\n")


def test_page_and_assets_are_served(served):
    for path, kind in (("/", "text/html"), ("/static/app.js", "text/javascript"),
                       ("/static/app.css", "text/css")):
        response = get(served, path)
        assert response.status == 200, path
        assert response.getheader("Content-Type").startswith(kind)
        assert response.read()


@pytest.fixture(scope="module")
def outside(served) -> Path:
    """A PNG outside the proofs folder, and a symlink to it inside."""
    secret = served.project / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\nsecret")
    proofs = served.project / "dist" / "proofs"
    (proofs / "leak.png").symlink_to(secret)
    (proofs / "leak-dir").symlink_to(served.project)
    return secret


@pytest.mark.parametrize("path", [
    "/proofs/../secret.png",
    "/proofs/%2e%2e/secret.png",
    "/proofs/%2E%2E/%2e%2e/project/secret.png",
    "/proofs/..%2fsecret.png",
    "/proofs/%2e%2e%2fsecret.png",
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/__init__.py",
    "/proofs//etc/passwd",
    "/proofs/%2fetc%2fpasswd",
    "/proofs/leak.png",
    "/proofs/leak-dir/secret.png",
    "/proofs/%00.png",
    "/proofs/..\\secret.png",
    "/secret.png",
    "/../secret.png",
    "/dist/manifest.json",
    "/proofs/placard-a3-landscape-press/proofs.json",
    "/api/outputs/../../secret.png",
    "/proofs/" + "a" * 300 + ".png",  # a name too long for the file system
    "/static/" + "a/" * 3000 + "app.css",  # a path too long
])
def test_only_its_own_files_are_served(served, outside, path):
    assert status(served, path) == 404


REFUSED_HOSTS = ["evil.example", "evil.example:{port}", "127.0.0.1:{other}", "127.0.0.1",
                 "localhost", "[::1]:{other}", "127.0.0.1:{port}.evil.example",
                 "127.0.0.2:{port}", "0.0.0.0:{port}"]


@pytest.mark.parametrize("host", REFUSED_HOSTS)
@pytest.mark.parametrize("method, path", [
    ("GET", "/"), ("GET", "/api/outputs"), ("GET", "/static/app.js"),
    ("GET", "/proofs/poster-a3-press/page-001.png"), ("GET", "/nowhere"),
    ("POST", "/api/outputs"), ("HEAD", "/"), ("OPTIONS", "*"),
])
def test_a_request_for_another_host_is_refused(served, host, method, path):
    """DNS rebinding: a page elsewhere that points its own name at 127.0.0.1 reads nothing."""
    port = urlsplit(served.url).port
    response = get(served, path, {"Host": host.format(port=port, other=port + 1)}, method)
    assert response.status == 421
    assert response.getheader("Content-Type").startswith("text/plain")
    assert response.getheader("Access-Control-Allow-Origin") is None
    body = response.read()
    if method != "HEAD":
        assert body.startswith(b"421 ") and len(body) < 200 and b"<" not in body


@pytest.mark.parametrize("request_bytes", [
    b"GET /api/outputs HTTP/1.0\r\n\r\n",
    b"GET /api/outputs HTTP/1.1\r\nConnection: close\r\n\r\n",
    b"GET /api/outputs HTTP/1.1\r\nHost: {host}\r\nHost: evil.example\r\n\r\n",
    b"GET /api/outputs HTTP/1.1\r\nHost: evil.example\r\nHost: {host}\r\n\r\n",
    b"GET /api/outputs HTTP/1.1\r\nHost:\r\n\r\n",
], ids=["http-1.0-no-host", "http-1.1-no-host", "second-host", "first-host", "empty-host"])
def test_a_request_without_its_one_host_is_refused(served, request_bytes):
    reply = raw(served, request_bytes.replace(b"{host}", urlsplit(served.url).netloc.encode()))
    assert reply.split(b"\r\n", 1)[0].split(b" ", 2)[1] == b"421"
    assert b'"outputs"' not in reply


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost:{port}",
                                  "[::1]:{port}"])
def test_a_request_addressed_to_serve_is_answered(served, host):
    port = urlsplit(served.url).port
    response = get(served, "/api/outputs", {"Host": host.format(port=port),
                                            "Origin": "http://evil.example"})
    assert response.status == 200
    assert "outputs" in json.loads(response.read())
    # Nothing lets another origin read it, even with the right Host.
    assert not [h for h, _ in response.getheaders() if h.lower().startswith("access-control")]
    assert response.getheader("Cross-Origin-Resource-Policy") == "same-origin"


@pytest.mark.parametrize("host, port, allowed", [
    ("127.0.0.1", 8000, {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}),
    ("localhost", 8000, {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}),
    ("127.0.0.1", 80, {"127.0.0.1:80", "localhost:80", "[::1]:80",
                       "127.0.0.1", "localhost", "[::1]"}),
    ("192.168.1.20", 8000, {"192.168.1.20:8000"}),
    ("Proofs.Example", 8000, {"proofs.example:8000"}),
    ("0.0.0.0", 8000, {"0.0.0.0:8000"}),
], ids=["loopback", "localhost", "port-80", "lan-address", "name", "any-address"])
def test_the_hosts_serve_answers(host, port, allowed):
    assert serve.allowed_hosts(host, port) == allowed


@pytest.mark.parametrize("request_bytes", [
    b"\x00\xff\xfe garbage\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",
    b"POST /api/outputs HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    b"GET / HTTP/1.1\r\nHost: x",  # and hang up halfway
    ], ids=["binary", "no-path", "bad-version", "long-line", "many-headers", "post", "cut-off"])
def test_a_malformed_request_does_not_kill_the_server(served, request_bytes):
    raw(served, request_bytes)  # whatever it answers (400, 501, or an HTTP/0.9 page)
    assert get(served, "/api/outputs").status == 200


def test_a_crash_in_the_handler_answers_500_and_serving_goes_on(monkeypatch):
    """serve's own server, in this process, over state whose snapshot fails."""
    live = serve.Live(job=None, dpi=50)
    monkeypatch.setattr(live, "snapshot_json", lambda since: 1 / 0)
    server = serve.make_server(live, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        here = SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}/")
        for _ in range(2):
            response = get(here, "/api/outputs")
            assert response.status == 500
            assert b"ZeroDivisionError: division by zero (a bug" in response.read()
            assert get(here, "/").status == 200
    finally:
        server.shutdown()
        server.server_close()


def _serve_in_this_thread(live, server, make_job, stop: threading.Event, scenario) -> None:
    """Run serve itself here (its builds, and the signal that cancels them, need the main
    thread) while ``scenario`` drives it from another thread; its failures are raised."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with ThreadPoolExecutor(1) as pool:
            checked = pool.submit(scenario)
            serve.run(live, make_job, stop)
            checked.result()
    finally:
        server.shutdown()
        server.server_close()


def test_an_unexpected_exception_shows_in_the_banner_and_serve_goes_on(tmp_path, monkeypatch):
    """serve itself in this process (its builds need the main thread), over a poster whose
    second build raises a bug's exception and whose third fails to proof: each shows
    in the banner, the last good proof is still served, and the next save clears it."""
    project = copy_project(tmp_path / "project")
    content = shutil.copytree(CONTENT, project / "content" / CONTENT.name)
    builds = []

    def build(job, on_output):
        builds.append(job)
        if len(builds) == 2:
            raise RuntimeError("injected\nbuild failure")
        return pipeline.build(job, on_output)

    def render_proofs(*args):
        if len(builds) == 3:
            raise ValueError("injected proof failure")
        return proofs.render_proofs(*args)

    monkeypatch.setattr(serve, "build", build)
    monkeypatch.setattr(serve, "render_proofs", render_proofs)

    def make_job() -> pipeline.Job:
        return pipeline.Job(project=load_project(project), content_dir=content,
                            out_dir=project / "dist", targets=("poster-a3",),
                            variants=("screen",))

    live = serve.Live(make_job(), dpi=20)
    server = serve.make_server(live, "127.0.0.1", 0)
    here = SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}/")
    stop = threading.Event()

    def api_until(until, what: str) -> dict:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not stop.is_set():  # (set if serve ends)
            data = json.loads(get(here, "/api/outputs").read())
            if until(data):
                return data
            time.sleep(0.05)
        raise AssertionError(f"{what} not within 120 s, or serve ended; last state: {data}")

    def save() -> None:
        slogans = content / "slogans.md"
        slogans.write_text(slogans.read_text(encoding="utf-8"), encoding="utf-8")

    def scenario() -> None:
        try:
            data = api_until(lambda d: d["outputs"] and not d["building"], "the first build")
            assert data["error"] is None
            png = data["outputs"][0]["pages"][0]["png"]
            save()
            data = api_until(lambda d: d["error"], "the build's exception in the banner")
            assert data["error"] == ("RuntimeError: injected build failure "
                                     "(a bug in pamphleteer; please report it)")
            assert data["outputs"][0]["pages"][0]["png"] == png
            assert get(here, png).status == 200, "the last good proof is still served"
            save()
            data = api_until(lambda d: "ValueError" in d["error"], "the proof's exception")
            assert data["error"] == ("1 output(s) failed: poster-a3-screen.pdf: ValueError: "
                                     "injected proof failure (a bug in pamphleteer; please "
                                     "report it)")
            assert data["outputs"][0]["findings"][0]["severity"] == "error"
            save()
            data = api_until(lambda d: d["error"] is None and not d["building"], "recovery")
            assert data["outputs"][0]["findings"] == []
            assert data["outputs"][0]["pages"][0]["png"] == png
        finally:
            stop.set()

    _serve_in_this_thread(live, server, make_job, stop, scenario)
    assert len(builds) == 4


def test_a_failing_watch_shows_in_the_banner_and_starts_over(tmp_path, monkeypatch):
    import watchfiles

    calls = []

    def watch(*paths, stop_event, **options):
        calls.append(paths)
        if len(calls) == 1:
            raise OSError("injected watch failure")
        yield {(watchfiles.Change.modified, "saved.md")}
        stop_event.wait()

    monkeypatch.setattr(watchfiles, "watch", watch)
    project = copy_project(tmp_path / "project")
    job = pipeline.Job(project=load_project(project), content_dir=project, out_dir=tmp_path)
    saves, stop, fails = queue.Queue(), threading.Event(), []
    watcher = threading.Thread(target=serve._watch, args=(job, lambda: job, saves, stop,
                                                          fails.append, lambda: None))
    watcher.start()
    try:
        assert saves.get(timeout=30) == {"saved.md"}, "after the failure, it watches again"
    finally:
        stop.set()
        watcher.join(30)
    assert fails == ["watching for saves: OSError: injected watch failure (a bug in "
                     "pamphleteer; please report it)"]
    assert not watcher.is_alive()


@pytest.mark.parametrize("file, breakage, per_output", [
    ("main.html.j2", "{% if %}\n", False),  # fails the whole build, before any output
    ("style.css", "\n.slogan { colr: red }\n", True),  # fails each placard output
], ids=["template", "stylesheet"])
def test_a_broken_layout_shows_the_cli_error_and_recovers(served, file, breakage, per_output):
    path = served.project / "layouts" / "placard" / file
    good = path.read_text(encoding="utf-8")
    before = {o["file"]: o["pages"] for o in served.idle()["outputs"]}
    path.write_text(good + breakage, encoding="utf-8")
    try:
        data = served.wait(lambda d: d["error"] and not d["building"], "the error")
        cli = run("build", "placard-a3-landscape", "poster-a3", "flyer-a6", "--project",
                  served.project)
        assert cli.exit_code == 1
        assert f"error: {data['error']}" in cli.output.splitlines()
        assert file in data["error"]
        for output in data["outputs"]:
            assert output["pages"] == before[output["file"]], "the last good proofs stay"
            findings = output["findings"]
            # (the tiled placard is made from the last good desk file, which stays)
            if per_output and output["layout"] == "placard" and output["variant"] != "tiled":
                assert findings and all(f["severity"] == "error" and file in f["message"]
                                        and f["file"] == output["file"] for f in findings)
            else:
                assert findings == []
    finally:
        path.write_text(good, encoding="utf-8")
    data = served.wait(lambda d: d["error"] is None and not d["building"], "recovery")
    assert all(o["findings"] == [] for o in data["outputs"])


def test_a_poll_that_names_its_revision_is_answered_when_a_newer_one_is_made():
    live = serve.Live(SimpleNamespace(), 96)
    first = json.loads(live.snapshot_json())
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(live.snapshot_json, first["revision"])
        time.sleep(0.3)
        assert not answer.done(), "answered though nothing changed"
        started = time.perf_counter()
        live.fail("layouts/placard/main.html.j2:3: unexpected end of template")
        data = json.loads(answer.result(timeout=10))
        assert time.perf_counter() - started < 1
    assert data["revision"] > first["revision"]
    assert data["error"] == "layouts/placard/main.html.j2:3: unexpected end of template"
    # A page that is behind is answered at once; one that is up to date, when the wait ends.
    assert json.loads(live.snapshot_json(first["revision"], wait=30)) == data
    started = time.perf_counter()
    assert json.loads(live.snapshot_json(data["revision"], wait=0.2)) == data
    assert time.perf_counter() - started >= 0.2


def test_a_build_starting_and_ending_is_a_new_revision():
    live = serve.Live(SimpleNamespace(), 96)
    revisions = [live.revision]
    for building in (True, False):
        live._set(building=building)
        revisions.append(json.loads(live.snapshot_json(revisions[-1], wait=5))["revision"])
    assert revisions[0] < revisions[1] < revisions[2]


def test_a_slogan_edit_refreshes_only_what_shows_it(served):
    before = served.idle()
    slogans = served.project / "content" / "aleppo" / "slogans.md"
    edit_file(slogans, "Freedom of movement for refugees!", "Open the borders!")

    def pages(data, file):
        return next(o["pages"] for o in data["outputs"] if o["file"] == file)

    placard = "placard-a3-landscape-press.pdf"
    after = served.wait(lambda d: pages(d, placard) != pages(before, placard),
                        "the placard's new proof", timeout=60)
    assert after["revision"] > before["revision"]
    old, new = pages(before, placard), pages(after, placard)
    assert [p["png"] for p in old[:-1]] == [p["png"] for p in new[:-1]], (
        "only the last slogan's page may change")
    assert old[-1]["png"] != new[-1]["png"]
    done = served.idle()
    # The flyer shows three slogans, not the last: it is not rebuilt.
    assert pages(done, "flyer-a6-press.pdf") == pages(before, "flyer-a6-press.pdf")


def test_a_port_in_use_is_one_clear_error(project_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("serve", "--project", project_dir, "--port", taken.getsockname()[1])
    line = assert_clean_failure(result, 2)
    assert "--port" in line


def test_a_save_during_a_build_cancels_it_and_the_next_starts_at_once(tmp_path, monkeypatch):
    """The second build hangs (as a long rebuild would) until a save arrives: the save
    interrupts it, the third build starts at once, with the output open in the large
    view first, and the page ends up clean."""
    project = copy_project(tmp_path / "project")
    content = shutil.copytree(CONTENT, project / "content" / CONTENT.name)
    builds, cancelled = [], []

    def build(job, on_output):
        builds.append((time.monotonic(), job))
        if len(builds) == 2:
            try:
                time.sleep(120)  # a signal handler's exception ends the sleep at once
            except serve.Cancelled:
                cancelled.append(time.monotonic())
                raise
        return pipeline.build(job, on_output)

    monkeypatch.setattr(serve, "build", build)

    def make_job() -> pipeline.Job:
        return pipeline.Job(project=load_project(project), content_dir=content,
                            out_dir=project / "dist", targets=("poster-a3", "flyer-a6"),
                            variants=("screen",))

    live = serve.Live(make_job(), dpi=20)
    server = serve.make_server(live, "127.0.0.1", 0)
    here = SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}/")
    stop = threading.Event()
    focus = "flyer-a6-screen.pdf"

    def wait(until, what: str) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not stop.is_set():
            json.loads(get(here, f"/api/outputs?focus={focus}").read())
            if until():
                return
            time.sleep(0.05)
        raise AssertionError(f"{what} not within 120 s, or serve ended")

    def save() -> float:
        slogans = content / "slogans.md"
        slogans.write_text(slogans.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        return time.monotonic()

    def scenario() -> None:
        try:
            wait(lambda: builds and not live.building, "the first build")
            save()
            wait(lambda: len(builds) == 2 and live.building, "the second build")
            saved = save()
            wait(lambda: len(builds) == 3 and not live.building, "the third build")
            assert cancelled and cancelled[0] - saved < 5, "the save cancelled the build"
            assert builds[2][0] - cancelled[0] < 5, "the next build started at once"
            assert builds[2][1].first[0] == focus, "the output in the large view first"
            assert json.loads(live.snapshot_json())["error"] is None
        finally:
            stop.set()

    _serve_in_this_thread(live, server, make_job, stop, scenario)


def _poster_job(tmp_path) -> Callable[[], pipeline.Job]:
    project = copy_project(tmp_path / "project")
    content = shutil.copytree(CONTENT, project / "content" / CONTENT.name)
    return lambda: pipeline.Job(project=load_project(project), content_dir=content,
                                out_dir=project / "dist", targets=("poster-a3",),
                                variants=("screen",))


def test_a_cancelled_build_is_no_longer_building(tmp_path, monkeypatch):
    """Else a save's signal arriving before the next build starts would cancel what
    runs between builds: serve's own loop."""
    def build(job, on_output):
        raise serve.Cancelled

    monkeypatch.setattr(serve, "build", build)
    make_job = _poster_job(tmp_path)
    live = serve.Live(make_job(), dpi=20)
    with pytest.raises(serve.Cancelled):
        live.rebuild(make_job())
    assert not live.building


def test_a_save_landing_between_builds_does_not_end_serve(tmp_path, monkeypatch):
    """A save's signal that interrupts serve while it waits for the next save (it came
    as a cancelled build ended) is one more save: serve builds it and goes on."""
    builds = []

    def build(job, on_output):
        builds.append(job)
        return pipeline.build(job, on_output)

    class Interrupted(queue.Queue):
        landed = False

        def get(self, block=True, timeout=None):
            if not Interrupted.landed and threading.current_thread() is threading.main_thread():
                Interrupted.landed = True
                raise serve.Cancelled
            return super().get(block, timeout)

    monkeypatch.setattr(serve, "build", build)
    monkeypatch.setattr(serve.queue, "Queue", Interrupted)
    make_job = _poster_job(tmp_path)
    live = serve.Live(make_job(), dpi=20)
    server = serve.make_server(live, "127.0.0.1", 0)
    stop = threading.Event()

    def wait(until, what: str) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not stop.is_set():
            if until():
                return
            time.sleep(0.05)
        raise AssertionError(f"{what} not within 120 s, or serve ended")

    def scenario() -> None:
        try:
            wait(lambda: Interrupted.landed and not live.building, "the interrupted wait")
            slogans = make_job().content_dir / "slogans.md"
            slogans.write_text(slogans.read_text(encoding="utf-8") + "\n", encoding="utf-8")
            wait(lambda: len(builds) == 2 and not live.building, "the save's build")
            assert json.loads(live.snapshot_json())["error"] is None
        finally:
            stop.set()

    _serve_in_this_thread(live, server, make_job, stop, scenario)


def test_social_cards_show_each_card_as_a_page(tmp_path, monkeypatch):
    """A social format is one output; serve shows each of its cards as one of its pages."""
    import helpers

    monkeypatch.setattr(helpers, "SERVE_TARGETS", ("social-link",))
    monkeypatch.setattr(helpers, "SERVE_FILES", ["social/headline-link.png"])
    with helpers.serving(tmp_path) as served:
        (output,) = served.api()["outputs"]
        slogans = helpers.read_slogans(served.project / "content" / helpers.CONTENT.name)
        assert output["file"] == "social/headline-link.png"
        assert len(output["pages"]) == 1 + len(slogans)
        assert [p["png"].split("/")[-2] for p in output["pages"]] == [
            "headline-link", *(f"slogan-{i}-link" for i in range(1, len(slogans) + 1))]
        response = get(served, output["pages"][1]["png"])
        assert response.status == 200 and response.read().startswith(b"\x89PNG")
