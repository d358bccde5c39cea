"""Preflight on hostile PDFs: whatever a file holds, `check` reports it and finishes.

A PDF handed in from anywhere may be damaged, or made to crash or hang its reader: forms
that draw themselves, colour spaces that name themselves, nesting hundreds deep, absurd
sizes, the wrong kind of object where a number or a dictionary belongs. Each is made
here from a good flyer and must become findings, within the time limit, with no
traceback. And `active-content` reports what a pamphlet must never carry: attachments,
scripts, and actions that reach outside the file.
"""

from __future__ import annotations

import io
import json
import random
import signal
import threading
import time
import zlib
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name

from helpers import ROOT, run
from pamphleteer.check import Expected
from pamphleteer.check import run as check
from pamphleteer.check.limits import TIME_LIMIT_S
from pamphleteer.config import load_project
from pamphleteer.pipeline import Job, build

FLYER = "flyer-a6-press.pdf"
UNREADABLE = ("not a readable PDF", "the file is damaged", "the file is malformed")


@pytest.fixture(scope="module")
def flyers(tmp_path_factory) -> Path:
    """The A6 flyer in every variant, built once: the hostile files are made from it."""
    project = load_project(ROOT)
    out = tmp_path_factory.mktemp("flyers")
    outputs = build(Job(project=project, content_dir=project.content_dir, out_dir=out,
                        targets=("flyer-a6",)))
    assert [o.error for o in outputs if o.error] == []
    return out


# --- hostile files, made from the flyer -----------------------------------------------


def edited(path: Path, edit) -> bytes:
    """The file at ``path`` after ``edit(pdf, page)`` (page 1's dictionary), saved."""
    with pikepdf.open(path) as pdf:
        edit(pdf, pdf.pages[0].obj)
        buffer = io.BytesIO()
        pdf.save(buffer)
    return buffer.getvalue()


def form(pdf: pikepdf.Pdf, content: bytes, xobjects: dict) -> pikepdf.Stream:
    return pdf.make_stream(content, Type=Name.XObject, Subtype=Name.Form,
                           BBox=[0, 0, 10, 10], Resources=Dictionary(XObject=xobjects))


def draw(pdf: pikepdf.Pdf, page: pikepdf.Dictionary, content: bytes, **resources) -> None:
    """Add ``resources`` (kind -> {name: object}) to the page, and draw ``content``."""
    for kind, entries in resources.items():
        if f"/{kind}" not in page.Resources:
            page.Resources[f"/{kind}"] = Dictionary()
        for name, value in entries.items():
            page.Resources[f"/{kind}"][f"/{name}"] = value
    pikepdf.Page(page).contents_add(pdf.make_stream(b"q " + content + b" Q"))


def _form_draws_itself(pdf, page):
    f = form(pdf, b"/Hx Do", {})
    f.Resources.XObject.Hx = f
    draw(pdf, page, b"/Hx Do", XObject={"Hx": f})


def _two_forms_draw_each_other(pdf, page):
    a, b = form(pdf, b"/B Do", {}), form(pdf, b"/A Do", {})
    a.Resources.XObject.B, b.Resources.XObject.A = b, a
    draw(pdf, page, b"/A Do", XObject={"A": a})


def _forms_500_deep(pdf, page):
    inner = form(pdf, b"0 0 1 1 re f", {})
    for _ in range(500):
        inner = form(pdf, b"/X Do", {"/X": inner})
    draw(pdf, page, b"/X Do", XObject={"X": inner})


def _form_cut_short(pdf, page):
    draw(pdf, page, b"/Hx Do", XObject={"Hx": form(pdf, b"0 0 m [1 2", {})})


def _colour_space_names_itself(pdf, page):
    draw(pdf, page, b"/Hc cs 1 sc 0 0 1 1 re f", ColorSpace={"Hc": Name("/Hc")})


def _indexed_base_is_itself(pdf, page):
    space = pdf.make_indirect(Array([Name.Indexed, Name.DeviceCMYK, 0, b"\0\0\0\0"]))
    space[1] = space
    draw(pdf, page, b"/Hc cs 0 sc 0 0 1 1 re f", ColorSpace={"Hc": space})


def _icc_alternate_is_itself(pdf, page):
    profile = pdf.make_stream(b"\0" * 128, N=4)
    space = pdf.make_indirect(Array([Name.ICCBased, profile]))
    profile.Alternate = space
    draw(pdf, page, b"/Hc cs 0 0 0 1 sc 0 0 1 1 re f", ColorSpace={"Hc": space})


def _separation_alternate_is_itself(pdf, page):
    space = pdf.make_indirect(Array([Name.Separation, Name.Spot, Name.DeviceCMYK,
                                     Dictionary(FunctionType=2, Domain=[0, 1], N=1)]))
    space[2] = space
    draw(pdf, page, b"/Hc cs 1 sc 0 0 1 1 re f", ColorSpace={"Hc": space})


def _page_tree_loops(pdf, page):
    node = pdf.make_indirect(Dictionary(Type=Name.Pages, Kids=[page], Count=1))
    node.Parent = node
    page.Parent = node
    pdf.Root.Pages.Kids = Array([node])


def _media_box_of_names(pdf, page):
    page.MediaBox = Array([Name.Zero, "x", Dictionary(), 1])


def _trim_box_a_number(pdf, page):
    page.TrimBox = 42


def _boxes_a_billion_mm(pdf, page):
    for key in ("/MediaBox", "/TrimBox", "/BleedBox"):
        page[key] = Array([0, 0, 10**12, 10**12])


def _image_100000_px_square(pdf, page):
    image = pdf.make_stream(b"\0" * 100, Type=Name.XObject, Subtype=Name.Image,
                            Width=100_000, Height=100_000, ColorSpace=Name.DeviceGray,
                            BitsPerComponent=8)
    draw(pdf, page, b"10 0 0 10 0 0 cm /Hi Do", XObject={"Hi": image})


def _content_inflating_to_600_mb(pdf, page):
    deflate, zeros = zlib.compressobj(9), bytes(2**20)
    data = b"".join(deflate.compress(zeros) for _ in range(600)) + deflate.flush()
    page.Contents = pdf.make_stream(data, Filter=Name.FlateDecode)


def _no_resources(pdf, page):
    del page["/Resources"]


def _resources_a_number(pdf, page):
    page.Resources = 7


def _xobjects_an_array(pdf, page):
    page.Resources.XObject = Array([1, 2])
    pikepdf.Page(page).contents_add(pdf.make_stream(b"/Hx Do"))


def _contents_a_number(pdf, page):
    page.Contents = 5


def _font_a_number(pdf, page):
    for name in page.Resources.Font.keys():
        page.Resources.Font[name] = 3


def _image_width_a_name(pdf, page):
    image = pdf.make_stream(b"\0" * 16, Type=Name.XObject, Subtype=Name.Image,
                            Width=Name.Wide, Height=-4, ColorSpace=Name.DeviceGray,
                            BitsPerComponent=8)
    draw(pdf, page, b"/Hi Do", XObject={"Hi": image})


def _output_intents_a_number(pdf, page):
    pdf.Root.OutputIntents = Array([9])


def _matrix_of_strings(pdf, page):
    draw(pdf, page, b"(a) (b) (c) (d) (e) (f) cm 0 0 1 1 re f")


HOSTILE = {  # how the flyer is made hostile -> what check must say of it
    "form-draws-itself": (_form_draws_itself, "the form XObject /Hx draws itself"),
    "two-forms-cycle": (_two_forms_draw_each_other, "the form XObject /A draws itself"),
    "forms-500-deep": (_forms_500_deep, "form XObjects nested over 32 deep"),
    "form-cut-short": (_form_cut_short, "a content stream is cut short (Unexpected end"),
    "colour-space-names-itself": (_colour_space_names_itself,
                                  "a colour space leads back to itself"),
    "indexed-base-loop": (_indexed_base_is_itself, "a colour space leads back to itself"),
    "icc-alternate-loop": (_icc_alternate_is_itself, "a colour space leads back to itself"),
    "separation-alternate-loop": (_separation_alternate_is_itself,
                                  "a colour space leads back to itself"),
    "page-tree-parent-loop": (_page_tree_loops, "page-count: page 1: the page tree loops"),
    "media-box-of-names": (_media_box_of_names, "MediaBox is undefined"),
    "trim-box-a-number": (_trim_box_a_number, "the file is malformed (TypeError"),
    "boxes-a-billion-mm": (_boxes_a_billion_mm, "beyond the 5080 mm (200 in) a PDF page"),
    "image-100000-px": (_image_100000_px_square, "an image of 100000×100000 px (object"),
    "content-bomb": (_content_inflating_to_600_mb, "a stream that inflates to over 512 MB"),
    "no-resources": (_no_resources, "which is not among the page's resources"),
    "resources-a-number": (_resources_a_number, "Resources is missing or invalid"),
    "xobjects-an-array": (_xobjects_an_array, "the page draws /Hx, which is not among"),
    "contents-a-number": (_contents_a_number, "supposed to be a stream or an array"),
    "font-a-number": (_font_a_number, "fonts: could not be checked, the file is malformed"),
    "image-width-a-name": (_image_width_a_name, "malformed (TypeError: Object is not numeric"),
    "output-intents-a-number": (_output_intents_a_number,
                                "colour: could not be checked, the file is malformed"),
    "matrix-of-strings": (_matrix_of_strings, "malformed (TypeError: Object is not numeric"),
}


def truncated(fraction: float):
    return lambda data: data[:int(len(data) * fraction)]


def flipped(seed: int, count: int = 10):
    def flip(data: bytes) -> bytes:
        rng, data = random.Random(seed), bytearray(data)
        for _ in range(count):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    return flip


MANGLED = {  # how the flyer's bytes are mangled -> what check must say of it
    **{f"truncated-{f:.0%}": (truncated(f), "not a readable PDF") for f in (0.1, 0.5, 0.9)},
    "truncated-last-bytes": (lambda data: data[:-10], "the file is damaged"),
    **{f"flipped-seed-{seed}": (flipped(seed), None) for seed in range(5)},
}


def assert_checked(path: Path, message: str | None) -> list[dict]:
    """`pamphleteer check PATH` fails with findings, in time and without a traceback, and
    one of them says ``message`` (or, if None, that the file is unreadable)."""
    started = time.monotonic()
    result = run("check", "--json", path)
    elapsed = time.monotonic() - started
    assert isinstance(result.exception, SystemExit), f"uncaught: {result.exception!r}"
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert elapsed < TIME_LIMIT_S
    findings = json.loads(result.stdout)["findings"]
    said = [f"{f['check']}: " + (f"page {f['page']}: " if f["page"] else "") + f["message"]
            for f in findings if f["severity"] == "error"]
    wanted = (message,) if message else UNREADABLE
    assert any(w in line for line in said for w in wanted), said
    return findings


@pytest.mark.parametrize(("edit", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_structure_is_a_finding(flyers, tmp_path, edit, message):
    path = tmp_path / "hostile.pdf"
    path.write_bytes(edited(flyers / FLYER, edit))
    assert_checked(path, message)


@pytest.mark.parametrize(("mangle", "message"), MANGLED.values(), ids=MANGLED.keys())
def test_mangled_bytes_are_a_finding(flyers, tmp_path, mangle, message):
    path = tmp_path / "mangled.pdf"
    path.write_bytes(mangle((flyers / FLYER).read_bytes()))
    assert_checked(path, message)


def test_flyers_are_clean(flyers):
    """The kit's own files: no active content, nothing malformed or damaged, in time."""
    result = run("check", "--json", "--strict", flyers)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"] == []


def test_structure_tree_loop_is_a_finding(flyers, tmp_path):
    """Screen files are read by their structure tree; one that loops is malformed."""
    def loop(pdf, page):
        element = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.P))
        element.K = Array([element])
        pdf.Root.StructTreeRoot.K = element

    path = tmp_path / "hostile-screen.pdf"
    path.write_bytes(edited(flyers / "flyer-a6-screen.pdf", loop))
    assert_checked(path, "accessibility: could not be checked, the file is malformed (the "
                   "structure tree loops")


def test_a_malformed_file_is_one_finding_not_one_per_rule(flyers, tmp_path):
    """Every rule that reads the drawing trips on the same loop; it is said once."""
    path = tmp_path / "hostile.pdf"
    path.write_bytes(edited(flyers / FLYER, _form_draws_itself))
    findings = assert_checked(path, "draws itself")
    assert [f["check"] for f in findings if "draws itself" in f["message"]] == ["glyphs"]


# --- the time limit -------------------------------------------------------------------


def slow_pdf(pages: int = 2000) -> bytes:
    """Many pages sharing one long drawing: a small file that takes long to read."""
    pdf = pikepdf.new()
    drawing = pdf.make_stream(b"0 0 m 1 1 l S\n" * 20_000)
    for _ in range(pages):
        page = pdf.add_blank_page(page_size=(298, 420))
        page.obj.Contents = drawing
        page.obj.TrimBox = page.obj.BleedBox = page.obj.MediaBox
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def test_time_limit_stops_a_slow_file_in_a_thread():
    """The limit holds outside the main thread (a signal could not), and leaves the
    build's own SIGALRM handler alone."""
    data, got = slow_pdf(), []
    alarm = signal.getsignal(signal.SIGALRM)
    worker = threading.Thread(target=lambda: got.append(
        check(data, "slow.pdf", Expected("desk"), seconds=1)))
    started = time.monotonic()
    worker.start()
    worker.join(60)
    assert not worker.is_alive() and time.monotonic() - started < 20
    [findings] = got
    assert [f.severity for f in findings] == ["error"]
    assert "checking took longer than 1 s, the limit for one file" in findings[0].message
    assert signal.getsignal(signal.SIGALRM) is alarm


def test_tiny_time_limit_on_a_good_file(flyers):
    [finding] = check((flyers / FLYER).read_bytes(), FLYER, Expected("press"), seconds=1e-6)
    assert finding.severity == "error" and "took longer than 1e-06 s" in finding.message


# --- active-content -------------------------------------------------------------------


def one_page(finish) -> bytes:
    """A blank A6 page with ``finish(pdf, page)`` added."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(298, 420)).obj
    finish(pdf, page)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def script(code: str = "app.alert(1)") -> Dictionary:
    return Dictionary(S=Name.JavaScript, JS=pikepdf.String(code))


def link(action: Dictionary) -> Dictionary:
    return Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[0, 0, 50, 50], A=action)


def _attachment(pdf, page):
    pdf.attachments["notes.txt"] = pikepdf.AttachedFileSpec(pdf, b"hello")


def _file_attachment_annotation(pdf, page):
    spec = pikepdf.AttachedFileSpec(pdf, b"hello", filename="notes.txt")
    page.Annots = pdf.make_indirect(Array([Dictionary(
        Type=Name.Annot, Subtype=Name.FileAttachment, Rect=[0, 0, 20, 20],
        FS=spec.obj)]))


def _associated_file(pdf, page):
    pdf.Root.AF = Array([Dictionary(Type=Name.Filespec, F="data.csv")])


def _document_javascript(pdf, page):
    pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=["init", script()]))


def _open_action_javascript(pdf, page):
    pdf.Root.OpenAction = script()


def _page_additional_action(pdf, page):
    page.AA = Dictionary(O=script())


def _outline_loop_with_javascript(pdf, page):
    item = pdf.make_indirect(Dictionary(Title="Start", A=script()))
    item.Next = item
    pdf.Root.Outlines = Dictionary(Type=Name.Outlines, First=item, Last=item, Count=1)


def _link(action: Dictionary):
    def add(pdf, page):
        page.Annots = Array([link(action)])
    return add


ACTIVE = {  # what the file carries -> how the finding names it
    "embedded-file": (_attachment, "an embedded file"),
    "file-attachment-annotation": (_file_attachment_annotation, "an embedded file"),
    "associated-file": (_associated_file, "an embedded file"),
    "document-javascript": (_document_javascript, "JavaScript"),
    "open-action-javascript": (_open_action_javascript, "JavaScript"),
    "page-additional-action": (_page_additional_action, "JavaScript"),
    "outline-loop-javascript": (_outline_loop_with_javascript, "JavaScript"),
    "launch-link": (_link(Dictionary(S=Name.Launch, F="calc.exe")), "a Launch action"),
    "submit-form-link": (_link(Dictionary(S=Name.SubmitForm, F="https://x.example/")),
                         "a SubmitForm action"),
    "import-data-link": (_link(Dictionary(S=Name.ImportData, F="data.fdf")),
                         "an ImportData action"),
    "goto-remote-link": (_link(Dictionary(S=Name.GoToR, F="other.pdf", D=[0, Name.Fit])),
                         "a GoToR action"),
    "goto-embedded-link": (_link(Dictionary(S=Name.GoToE, D=[0, Name.Fit])),
                           "a GoToE action"),
}


def active_findings(data: bytes) -> list[str]:
    return [f.message for f in check(data, "x.pdf", Expected("desk"), only=("active-content",))
            if f.severity == "error"]


@pytest.mark.parametrize(("finish", "kind"), ACTIVE.values(), ids=ACTIVE.keys())
def test_active_content_is_reported(finish, kind):
    [message] = active_findings(one_page(finish))
    assert message.startswith(f"the file carries {kind}")
    assert "remove it, or export the PDF again without scripts" in message


def test_active_content_one_finding_per_kind():
    def many(pdf, page):
        _document_javascript(pdf, page)
        _open_action_javascript(pdf, page)
        _page_additional_action(pdf, page)
        _attachment(pdf, page)
        page.Annots = Array([link(Dictionary(S=Name.Launch, F="a.exe")),
                             link(Dictionary(S=Name.Launch, F="b.exe"))])

    messages = active_findings(one_page(many))
    assert len(messages) == 3, messages
    for kind in ("JavaScript", "a Launch action", "an embedded file"):
        assert sum(m.startswith(f"the file carries {kind}") for m in messages) == 1


def test_active_content_ignores_links_to_the_web():
    uri = _link(Dictionary(S=Name.URI, URI="https://example.org/"))
    assert active_findings(one_page(uri)) == []


def test_active_content_through_the_command(flyers, tmp_path):
    path = tmp_path / "scripted.pdf"
    path.write_bytes(edited(flyers / FLYER, _open_action_javascript))
    assert_checked(path, "active-content: the file carries JavaScript")
