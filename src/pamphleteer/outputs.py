"""The output folder: atomic writes, a lock, the manifest, the zip, merging shards.

The manifest is the build's memory: each entry records the digest of the output's
inputs, so the next build skips what is unchanged. It is rewritten (atomically) after
every output, so a build that is interrupted loses nothing it finished.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pamphleteer import __version__
from pamphleteer.config import ListOf, Number, Table, Text, dotted, show
from pamphleteer.errors import UsageError

MANIFEST = "manifest.json"
LOCK = ".pamphleteer.lock"
STATE = ".pamphleteer-state.json"
DEFAULT_EPOCH = 946684800  # 2000-01-01T00:00:00Z: dates in outputs never come from the clock
LATEST_EPOCH = 4354819199  # 2107-12-31T23:59:59Z: the last second a zip entry's date can hold

#: A file the manifest names: a plain name in the output folder (or a social card's in
#: its social/ folder), never a path out of it.
IMAGE_FOLDER = "social"
OUTPUT_FILE = Text("a plain .pdf file name, or social/NAME.png",
                   'a file name ending in .pdf, e.g. "poster-a3.pdf", or a social card '
                   '"social/slogan-1-square.png"',
                   r"(?!\.)(?!.*\.\.)[^/\\]+\.pdf|social/(?!\.)(?!.*\.\.)[^/\\]+\.png")
SHA256 = Text("a SHA-256 digest", "64 hexadecimal digits", r"[0-9a-f]{64}")
COUNT = Number(0, 2**53, whole=True)
MM = Number(0, 10000, "mm")

#: What ``manifest.json`` holds, as far as pamphleteer reads it back; entries may hold
#: more (the details of imposed files), which is let through unchecked.
MANIFEST_SCHEMA = Table({
    "generator": Text(),
    "content": Text(),
    "source_date_epoch": Number(0, LATEST_EPOCH, whole=True),
    "inputs_sha256": SHA256,
    "outputs": ListOf(Table({
        "file": OUTPUT_FILE,
        "layout": Text(),
        "size": Text(),
        "variant": Text(),
        "pages": COUNT,
        "trim_mm": ListOf(MM, "the width and height in mm, e.g. [210, 297]", 2, 2),
        "bleed_mm": MM,
        "sha256": SHA256,
        "bytes": COUNT,
        "inputs_sha256": SHA256,
        "page_rule": Text(),
        "safe_mm": MM,
        "viewing_cm": Number(0, 1e6, "cm"),
        "pdfx": Text(),
        "findings": ListOf(Table({}, others=True), "a list of findings"),
    }, required=("file", "pages", "trim_mm", "sha256", "bytes", "inputs_sha256"), others=True),
        "a list of the outputs' entries", longest=100_000),
}, required=("content", "source_date_epoch", "outputs"), others=True)


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, whole.

    A file that already holds exactly ``data`` is left alone, so a forced or widened
    rebuild does not make unchanged outputs look new to rsync, make or a printer's inbox.
    ``durable`` data is on the disk before it replaces the old file, so that a power
    cut cannot leave an empty file in its place; a cache entry whose reader refuses
    what it cannot parse need not wait for the disk (a build writes hundreds).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        if durable:  # the same bytes, maybe written without waiting for the disk
            with open(path, "rb") as f:
                os.fsync(f.fileno())
        return  # keep the file, and its modification time, as it was
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; outputs are not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def locked(out_dir: Path, wait: bool = True) -> Iterator[None]:
    """Hold the output folder for one build; a second build waits (or refuses)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / LOCK, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as e:
            raise UsageError(
                f"{out_dir}: another pamphleteer build is writing here; wait for it to "
                "finish or build into another --out"
            ) from e
        for stale in out_dir.glob(".*.tmp"):  # left by a build that was killed
            stale.unlink(missing_ok=True)
        yield


def stamp(signature: str, paths: list[Path]) -> str:
    """Digest of a build's request and of the size and modification time of its files.

    The no-op fast path: when nothing a build reads or writes was touched since the last
    complete build, not even the content needs parsing.
    """
    h = hashlib.sha256(f"{__version__}\0{signature}\0".encode())
    for path in sorted(paths):
        try:
            st = path.stat()
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        except OSError:
            h.update(f"{path}\0missing\0".encode())
    return h.hexdigest()


def read_json(path: Path) -> dict:
    """A small JSON file the tool keeps for itself; missing or damaged reads as empty,
    so the work it records is simply done again."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def read_state(out_dir: Path) -> dict:
    return read_json(out_dir / STATE)


def write_state(out_dir: Path, state: dict) -> None:
    write_atomic(out_dir / STATE, json.dumps(state).encode())


@dataclass
class Manifest:
    """``manifest.json``: what the output folder holds and what each file was made of."""

    path: Path
    content: str
    source_date_epoch: int
    entries: dict[str, dict] = field(default_factory=dict)
    #: Each entry as last written, with its text: see ``save``.
    _written: dict[str, tuple[dict, str]] = field(default_factory=dict, repr=False,
                                                  compare=False)

    @classmethod
    def load(cls, out_dir: Path, content: str, epoch: int) -> Manifest:
        """The last build's entries, if it was of this content and date, whose files are
        still there with their size; a manifest that cannot be read counts as none."""
        manifest = cls(out_dir / MANIFEST, content, epoch)
        try:
            last = cls.read(out_dir, files=False)
        except UsageError:
            return manifest
        if (last.content, last.source_date_epoch) == (content, epoch):
            manifest.entries = {
                name: entry for name, entry in last.entries.items()
                if (out_dir / name).is_file() and (out_dir / name).stat().st_size == entry["bytes"]}
        return manifest

    @classmethod
    def read(cls, out_dir: Path, files: bool = True) -> Manifest:
        """The ``manifest.json`` of ``out_dir``, checked: the one reader of the file.

        Every field pamphleteer reads has its type, and every entry names a plain
        ``.pdf`` file: a manifest may come from elsewhere (a CI artifact), and must not
        lead a merge to read or write outside its folder. With ``files``, each file must
        also be in ``out_dir`` as a regular file, or a link to one there.

        Raises ``UsageError``, one line naming the manifest and the fix.
        """
        path = out_dir / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise _unusable(path, f"cannot read it ({e.strerror or e})") from e
        except (ValueError, RecursionError) as e:  # not UTF-8, not JSON, nested too deep
            raise _unusable(path, f"not JSON ({str(e)[:80]})") from e
        problem = next(MANIFEST_SCHEMA.check(data, ()), None)
        if problem:
            where = f"{dotted(problem.key)}: " if problem.key else ""
            raise _unusable(path, f"{where}{problem.problem}")
        manifest = cls(path, data["content"], data["source_date_epoch"],
                       {entry["file"]: entry for entry in data["outputs"]})
        if files:
            for name in manifest.entries:
                file = out_dir / name
                folder = out_dir.resolve() / name.split("/")[0] if "/" in name \
                    else out_dir.resolve()
                if not file.is_file() or file.resolve().parent != folder:
                    raise _unusable(path, f"{show(name)} is not a regular file in {out_dir}")
        return manifest

    def fresh(self, file: str, inputs: str) -> bool:
        """Built from exactly these inputs, and the file still has the recorded bytes."""
        entry = self.entries.get(file)
        return (entry is not None and entry.get("inputs_sha256") == inputs
                and sha256_file(self.path.parent / file) == entry["sha256"])

    def record(self, entry: dict) -> None:
        """Add an output's entry, and save: a build cut short keeps what it made. Not
        durable: a power cut may cost the manifest (the next build makes all again),
        never an output; the build's last ``save`` waits for the disk."""
        self.entries[entry["file"]] = entry
        self.save(durable=False)

    def as_dict(self) -> dict:
        entries = [self.entries[k] for k in sorted(self.entries)]
        digest = hashlib.sha256("".join(e["inputs_sha256"] for e in entries).encode())
        return {
            "generator": f"pamphleteer {__version__}",
            "content": self.content,
            "source_date_epoch": self.source_date_epoch,
            "inputs_sha256": digest.hexdigest(),
            "outputs": entries,
        }

    def save(self, durable: bool = True) -> None:
        """Write ``json.dumps(self.as_dict(), indent=2)``. A build saves after every
        output, so each entry is serialized once and kept with its text: dumping the
        whole manifest each time made a kit's saves grow with the square of its
        outputs (0.13 s for 122 entries, in the process that hands out the work)."""
        data = self.as_dict()
        entries = data.pop("outputs")
        head = json.dumps(data, indent=2, ensure_ascii=False).removesuffix("\n}")
        body = ",\n".join(self._entry_text(e) for e in entries)
        outputs = f"[\n{body}\n  ]" if entries else "[]"
        text = f'{head},\n  "outputs": {outputs}\n}}\n'
        write_atomic(self.path, text.encode(), durable)

    def _entry_text(self, entry: dict) -> str:
        """``entry`` as ``save`` writes it, two levels in; from the last save when the
        entry is the same."""
        written = self._written.get(entry["file"])
        if written is None or written[0] != entry:
            text = json.dumps(entry, indent=2, ensure_ascii=False)
            written = self._written[entry["file"]] = (dict(entry),
                                                      "    " + text.replace("\n", "\n    "))
        return written[1]


def write_zip(out_dir: Path, name: str, manifest: Manifest) -> Path:
    """``<name>-kit.zip``: every PDF and the manifest, byte-identical on every rebuild.

    Entries are sorted and stamped with the build's fixed date, never the clock.
    """
    from datetime import UTC, datetime

    stamp = datetime.fromtimestamp(max(manifest.source_date_epoch, 315532800), UTC)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for file in [*sorted(manifest.entries), MANIFEST]:
            info = zipfile.ZipInfo(file, stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, (out_dir / file).read_bytes())
    path = out_dir / f"{name}-kit.zip"
    write_atomic(path, buffer.getvalue())
    return path


def _unusable(path: Path, problem: str) -> UsageError:
    return UsageError(f"{path}: {problem}; build that folder again with 'pamphleteer build'")


def merge(sources: list[Path], out_dir: Path) -> Manifest:
    """Combine shard folders into one, as a single full build would have written it.

    Every shard is checked first (its manifest, and each file against its digest), so a
    bad shard leaves ``out_dir`` as it was.
    """
    if not sources:
        raise UsageError("nothing to merge; name the shards' output folders")
    shards = [Manifest.read(source) for source in sources]
    first = shards[0]
    for source, shard in zip(sources, shards, strict=True):
        if (shard.content, shard.source_date_epoch) != (first.content, first.source_date_epoch):
            raise UsageError(f"{source}: built from other content or another date than "
                             f"{sources[0]}; merge shards of one build only")
        for name, entry in shard.entries.items():
            try:
                same = sha256_file(source / name) == entry["sha256"]
            except OSError as e:
                raise UsageError(f"{source / name}: cannot read it ({e.strerror}); "
                                 "rebuild that shard") from e
            if not same:
                raise UsageError(f"{source / name}: does not match its manifest entry; "
                                 "rebuild that shard")
    merged = Manifest(out_dir / MANIFEST, first.content, first.source_date_epoch)
    with locked(out_dir):
        for source, shard in zip(sources, shards, strict=True):
            for name, entry in shard.entries.items():
                if source.resolve() != out_dir.resolve():
                    target = out_dir / name
                    target.parent.mkdir(exist_ok=True)
                    tmp = target.with_name(f".{target.name}.tmp")
                    shutil.copyfile(source / name, tmp)
                    os.replace(tmp, target)
                merged.entries[name] = entry
        merged.save()
    return merged
