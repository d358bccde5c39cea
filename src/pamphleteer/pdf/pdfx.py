"""Press files as real PDF/X: an output intent, the labels, and content that conforms.

WeasyPrint's ``pdf/x-*`` variants only label a file. Here a press file gets the
printer's CMYK profile as its embedded output intent, the Info and XMP keys PDF/X asks
for, and content made or checked to conform: RGB images are separated to CMYK through
the output profile, a transparency group blending in RGB blends in CMYK (its content is
CMYK); RGB in vector content or a CMYK colour past the ink limit (which only a
layout's CSS can put there) is left for preflight's ``colour`` check. PDF/X-1a allows no
transparency and needs PDF 1.3, so ``x1a`` first rewrites the file with Ghostscript.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pikepdf
from pikepdf import Name

from pamphleteer.errors import RenderError, UsageError
from pamphleteer.pdf import fonts
from pamphleteer.pdf.colourspace import family
from pamphleteer.pdf.metadata import moment, set_dates


@dataclass(frozen=True)
class Standard:
    """One PDF/X standard: how it labels a file and which PDF it must be."""

    version: str  # /GTS_PDFXVersion
    conformance: str | None  # /GTS_PDFXConformance, where the standard has levels
    pdf_version: str
    object_streams: bool  # PDF 1.3 readers know none
    flatten: bool  # no transparency allowed: rewrite through Ghostscript

    @property
    def label(self) -> str:
        return self.conformance or self.version


STANDARDS = {
    "x4": Standard("PDF/X-4", None, "1.6", object_streams=True, flatten=False),
    "x1a": Standard("PDF/X-1:2001", "PDF/X-1a:2001", "1.3", object_streams=False,
                    flatten=True),
}


@dataclass(frozen=True)
class Press:
    """The printing condition press files are made for (from ``[print]``)."""

    profile: Path
    condition: str
    registry: str


_NO_GHOSTSCRIPT = ("--pdfx x1a needs Ghostscript, which is not installed; "
                   "run scripts/system-deps (or apt-get install ghostscript)")
_RGB = {"DeviceRGB", "CalRGB"}


def pdfx_version(pdf: pikepdf.Pdf) -> str | None:
    """The PDF/X standard a file claims (``PDF/X-4``, ``PDF/X-1a:2001``), or None."""
    info = pdf.trailer.get("/Info", {})
    conformance = info.get("/GTS_PDFXConformance")
    version = conformance if conformance is not None else info.get("/GTS_PDFXVersion")
    return None if version is None else str(version)


def require_ghostscript(standard: str) -> None:
    """Fail once, before anything is built, when the standard needs a missing ``gs``."""
    if STANDARDS[standard].flatten and shutil.which("gs") is None:
        raise UsageError(_NO_GHOSTSCRIPT)


def make_pdfx(data: bytes, name: str, standard: str, press: Press, epoch: int) -> bytes:
    """The press file ``name`` (bytes, as the pipeline wrote it) made PDF/X ``standard``.

    Bytes in and out, not a ``Pdf``: Ghostscript, for ``x1a``, works on files.
    """
    std = STANDARDS[standard]
    profile = press.profile.read_bytes()
    with pikepdf.open(io.BytesIO(data)) as source, pikepdf.open(
            io.BytesIO(_flatten(data, name, press.profile) if std.flatten else data)) as pdf:
        if std.flatten:
            _restore(pdf, source)
        _separate_images(pdf, name, profile)
        _cmyk_groups(pdf)
        for page in pdf.pages:
            # Nothing to click on paper, and PDF/X restricts annotations within the bleed.
            if "/Annots" in page.obj:
                del page.obj["/Annots"]
        _label(pdf, std, press, profile, epoch)
        buffer = io.BytesIO()
        pdf.save(buffer, deterministic_id=True, compress_streams=True,
                 force_version=std.pdf_version,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate if std.object_streams
                 else pikepdf.ObjectStreamMode.disable)
    return buffer.getvalue()


# --- x1a: through Ghostscript ---------------------------------------------------------


def _flatten(data: bytes, name: str, profile: Path) -> bytes:
    """The file rewritten by Ghostscript as PDF 1.3: transparency flattened, colour CMYK."""
    with tempfile.TemporaryDirectory(prefix="pamphleteer-gs-") as tmp:
        src, out = Path(tmp) / "in.pdf", Path(tmp) / "out.pdf"
        src.write_bytes(data)
        try:
            subprocess.run(
                ["gs", "-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-sDEVICE=pdfwrite",
                 "-dPDFX", "-dPDFSETTINGS=/prepress", "-sProcessColorModel=DeviceCMYK",
                 "-sColorConversionStrategy=CMYK",
                 "-dCompatibilityLevel=1.3", f"-sOutputICCProfile={profile}",
                 f"-sOutputFile={out}", str(src)],
                check=True, capture_output=True, text=True, timeout=600,
            )
        except FileNotFoundError as e:
            raise UsageError(_NO_GHOSTSCRIPT) from e
        except subprocess.CalledProcessError as e:
            detail = (e.stderr or e.stdout or "").strip().splitlines()
            raise RenderError(f"{name}: Ghostscript could not make PDF/X-1a: "
                              f"{detail[0] if detail else f'exit code {e.returncode}'}") from e
        return out.read_bytes()


def _restore(pdf: pikepdf.Pdf, source: pikepdf.Pdf) -> None:
    """What Ghostscript rewrites that was already right: boxes, document info, dates,
    the reading order (a right-to-left file's /ViewerPreferences), and the file ID,
    which it draws from the clock."""
    del pdf.trailer["/ID"]
    if "/ViewerPreferences" in source.Root:
        pdf.Root.ViewerPreferences = pikepdf.Dictionary(dict(source.Root.ViewerPreferences.items()))
    for page, original in zip(pdf.pages, source.pages, strict=True):
        for key in ("/MediaBox", "/BleedBox", "/TrimBox"):
            page.obj[key] = pikepdf.Array([float(v) for v in original.obj[key]])
        for key in ("/CropBox", "/ArtBox"):
            if key in page.obj:
                del page.obj[key]
    _restore_font_names(pdf, source)
    producer = str(pdf.docinfo.get("/Producer", "Ghostscript"))
    for key in list(pdf.docinfo.keys()):
        del pdf.docinfo[key]
    for key, value in source.docinfo.items():
        pdf.docinfo[key] = value
    pdf.docinfo["/Producer"] = f"{source.docinfo.get('/Producer', '')}; {producer}".lstrip("; ")


def _widths(font: pikepdf.Dictionary) -> Counter:
    """How many glyphs of each advance width a font has: the same font, subset alike,
    has the same widths whatever its glyphs are numbered."""
    widths: Counter = Counter()
    w = font.get("/DescendantFonts", [font])[0].get("/W", pikepdf.Array())
    i = 0
    while i + 1 < len(w):
        if isinstance(w[i + 1], pikepdf.Array):
            widths.update(round(float(v)) for v in w[i + 1])
            i += 2
        else:
            widths[round(float(w[i + 2]))] += int(w[i + 1]) - int(w[i]) + 1
            i += 3
    return widths


def _restore_font_names(pdf: pikepdf.Pdf, source: pikepdf.Pdf) -> None:
    """Give back the names Ghostscript loses: it calls an OpenType-CFF font "Anonymous".

    Each nameless font takes the name of the original font whose widths it shares.
    """
    def base(font) -> str:
        return str(font.get("/BaseFont", "/"))[1:].partition("+")[2]

    originals = {base(f): _widths(f) for f in fonts(source)}
    for font in fonts(pdf):
        name = base(font)
        if not name or name in originals:
            continue
        widths = _widths(font)
        best = max(originals, key=lambda o: sum((originals[o] & widths).values()), default=None)
        if best is None:
            continue
        renamed = Name("/" + str(font.BaseFont)[1:].replace(name, best))
        font.BaseFont = renamed
        for descendant in font.get("/DescendantFonts", []):
            descendant.BaseFont = renamed
            descendant.FontDescriptor.FontName = renamed


# --- content --------------------------------------------------------------------------


def _separate_images(pdf: pikepdf.Pdf, name: str, profile: bytes) -> None:
    """Every RGB image converted to DeviceCMYK through the output profile (perceptual).

    An article's photograph is RGB; only the output profile knows how the press should
    print it, and DeviceCMYK under a CMYK output intent means exactly that press.
    """
    from PIL import ImageCms

    output = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    for obj in pdf.objects:
        if not (isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"
                and family(obj.get("/ColorSpace"), {})[0] in _RGB):
            continue
        space = obj.ColorSpace
        embedded = (space[1] if str(space[0]) == "/ICCBased" else None) if isinstance(
            space, pikepdf.Array) else None
        source = (ImageCms.ImageCmsProfile(io.BytesIO(embedded.read_bytes())) if embedded
                  else ImageCms.createProfile("sRGB"))
        try:
            image = pikepdf.PdfImage(obj).as_pil_image().convert("RGB")
        except (pikepdf.PdfError, NotImplementedError, ValueError) as e:
            raise RenderError(f"{name}: an RGB image could not be converted to CMYK ({e}); "
                              "save it as an 8-bit RGB or CMYK JPEG or PNG") from e
        cmyk = ImageCms.profileToProfile(image, source, output, outputMode="CMYK",
                                         renderingIntent=ImageCms.Intent.PERCEPTUAL)
        obj.write(cmyk.tobytes())
        obj.ColorSpace = Name.DeviceCMYK
        obj.BitsPerComponent = 8
        for key in ("/Decode", "/DecodeParms"):
            if key in obj:
                del obj[key]


def _cmyk_groups(pdf: pikepdf.Pdf) -> None:
    """Transparency groups blend in DeviceCMYK: their content is CMYK, as the press is."""
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            group = obj.get("/Group")
            if (isinstance(group, pikepdf.Dictionary) and group.get("/S") == "/Transparency"
                    and family(group.get("/CS"), {})[0] in _RGB):
                group.CS = Name.DeviceCMYK


# --- labels ---------------------------------------------------------------------------


def _label(pdf: pikepdf.Pdf, std: Standard, press: Press, profile: bytes, epoch: int) -> None:
    """Output intent, Info keys and XMP metadata, all from the build's fixed epoch."""
    from PIL import ImageCms

    description = ImageCms.getProfileDescription(
        ImageCms.ImageCmsProfile(io.BytesIO(profile))).strip() or press.condition
    icc = pdf.make_stream(profile)
    icc.N = 4
    pdf.Root.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
        Type=Name.OutputIntent, S=Name.GTS_PDFX,
        OutputConditionIdentifier=press.condition, OutputCondition=description,
        RegistryName=press.registry, Info=description, DestOutputProfile=icc,
    )])
    set_dates(pdf, epoch)
    info = pdf.docinfo
    if not str(info.get("/Title", "")):
        info["/Title"] = "Untitled"
    info["/Trapped"] = Name("/False")
    info["/GTS_PDFXVersion"] = std.version
    if std.conformance:
        info["/GTS_PDFXConformance"] = std.conformance
    elif "/GTS_PDFXConformance" in info:
        del info["/GTS_PDFXConformance"]
    pdf.Root.Metadata = pdf.make_stream(_xmp(pdf, std, epoch), Type=Name.Metadata,
                                        Subtype=Name.XML)


def _xmp(pdf: pikepdf.Pdf, std: Standard, epoch: int) -> bytes:
    """The XMP packet PDF/X asks for, mirroring the Info dictionary.

    Its IDs come from the pages' content, not from chance, so rebuilds are identical.
    """
    info = {k: str(v) for k, v in pdf.docinfo.items()}
    digest = hashlib.sha256(info["/Title"].encode())
    for page in pdf.pages:
        contents = page.obj.get("/Contents")
        for stream in contents if isinstance(contents, pikepdf.Array) else [contents]:
            if stream is not None:
                digest.update(stream.read_bytes())
    document = uuid.UUID(bytes=digest.digest()[:16], version=4)
    instance = uuid.uuid5(document, std.label)
    when = moment(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")
    title = escape(info["/Title"])
    author = (f"<dc:creator><rdf:Seq><rdf:li>{escape(info['/Author'])}</rdf:li></rdf:Seq>"
              "</dc:creator>" if info.get("/Author") else "")
    pdfx = (f"<pdfx:GTS_PDFXVersion>{std.version}</pdfx:GTS_PDFXVersion>"
            f"<pdfx:GTS_PDFXConformance>{std.conformance}</pdfx:GTS_PDFXConformance>"
            if std.conformance else "")
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about=""
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
 xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
 xmlns:pdfxid="http://www.npes.org/pdfx/ns/id/"
 xmlns:pdfx="http://ns.adobe.com/pdfx/1.3/">
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
{author}
<xmp:CreateDate>{when}</xmp:CreateDate>
<xmp:ModifyDate>{when}</xmp:ModifyDate>
<xmp:MetadataDate>{when}</xmp:MetadataDate>
<xmp:CreatorTool>{escape(info.get("/Creator", "pamphleteer"))}</xmp:CreatorTool>
<xmpMM:DocumentID>uuid:{document}</xmpMM:DocumentID>
<xmpMM:InstanceID>uuid:{instance}</xmpMM:InstanceID>
<xmpMM:VersionID>1</xmpMM:VersionID>
<xmpMM:RenditionClass>default</xmpMM:RenditionClass>
<pdf:Producer>{escape(info.get("/Producer", ""))}</pdf:Producer>
<pdf:Trapped>False</pdf:Trapped>
<pdfxid:GTS_PDFXVersion>{std.version}</pdfxid:GTS_PDFXVersion>
{pdfx}
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="r"?>""".encode()
