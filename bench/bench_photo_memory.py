"""Server memory taken by photo uploads: decompression bombs and big phone photos (security finding 2).

Run: .venv/bin/python bench/bench_photo_memory.py [--skip-old] [--only NAME] [--serve]

Each case runs in a fresh Python process that reads its input file(s), resets the RSS high-water
mark (writes 5 to /proc/self/clear_refs), then calls `PhotoStore.save` on every input at once, one
thread each, as the server's worker threads do. It reports RSS before, the peak (VmHWM) and RSS
after, from /proc/self/status: tracemalloc does not see Pillow's C buffers, RSS does.

Implementations compared:
  old      server/photos.py as last committed (`git show HEAD:server/photos.py`, copied into a
           temporary module), if HEAD has that one-file pipeline and the working tree differs;
  new      the working tree's pipeline (the package server/photos/, or server/photos.py);
  no-trim  the working tree's, with `release_freed_memory` (glibc malloc_trim) made a no-op: for
           the "after" column of the cases that save several photos.

With --serve, the same cases go through the upload route of a real `souk serve` process instead
(the working tree's code only; a fresh server and empty SQLite database per case, an anonymous
device's token, one client thread per upload), plus 12 budget PNGs at once, where the decode
gate queues 8 and answers 429 to the rest; RSS is the server process's.

Cases: the review's 6300x6300 RGBA PNG of one colour (~160 KB), alone and three at once; a 48 MP
phone JPEG (8000x6000, baseline) and a progressive one; a 40 MP WebP; and the costliest uploads
the new pipeline accepts: a PNG decoding to exactly DECODE_BUDGET (8192x4096 RGBA), a WebP at the
budget (4096x2048), a 30 MP progressive JPEG, and three budget PNGs at once. Linux only (/proc).
Nothing is asserted; tests/attacks/test_photo_bomb.py holds the bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import inspect
import io
import json
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from harness import ROOT
from harness.machine import memory, reset_peak
from PIL import Image, ImageDraw

MAX_BYTES = 10_000_000  # the default SOUK_MAX_UPLOAD_BYTES
MB = 1024 * 1024


# --- inputs ---------------------------------------------------------------------------------------


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def flat_png(width: int, height: int) -> bytes:
    """An RGBA PNG of one colour built row by row (never holding the pixels): the bomb's shape."""
    row = b"\x00" + bytes((200, 30, 30, 128)) * width
    compressor = zlib.compressobj(9)
    idat = b"".join([compressor.compress(row) for _ in range(height)] + [compressor.flush()])
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def photo_like(size: tuple[int, int]) -> Image.Image:
    """Gradients and bars: not one flat colour, so encoders and decoders do real work."""
    ramp = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (ramp, ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM), Image.new("L", size, 90)))
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], max(1, size[0] // 24)):
        draw.rectangle((x, size[1] // 3, x + size[0] // 60, 2 * size[1] // 3), fill=(20, 160, 220))
    return image


def encoded(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def make_inputs(folder: Path) -> dict[str, Path]:
    """Write every input once; the children only read them."""
    made: dict[str, bytes] = {"bomb.png": flat_png(6300, 6300), "budget.png": flat_png(8192, 4096)}
    phone = photo_like((8000, 6000))
    made["48mp.jpg"] = encoded(phone, "JPEG", quality=90)
    made["48mp-progressive.jpg"] = encoded(phone, "JPEG", quality=90, progressive=True)
    phone.close()
    made["30mp-progressive.jpg"] = encoded(photo_like((6000, 5000)), "JPEG", quality=90, progressive=True)
    made["40mp.webp"] = encoded(photo_like((6324, 6324)), "WEBP", quality=80)
    made["budget.webp"] = encoded(photo_like((4096, 2048)), "WEBP", quality=80)
    paths = {}
    for name, data in made.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    return paths


@dataclass(frozen=True)
class Case:
    title: str
    inputs: tuple[str, ...]
    trim_matters: bool = False  # several saves: worth a no-trim run for the "after" column


CASES = [
    Case("6300x6300 RGBA PNG, the review's bomb", ("bomb.png",)),
    Case("3 x that PNG at once", ("bomb.png",) * 3, trim_matters=True),
    Case("48 MP phone JPEG 8000x6000 (baseline)", ("48mp.jpg",)),
    Case("48 MP progressive JPEG", ("48mp-progressive.jpg",)),
    Case("40 MP WebP 6324x6324", ("40mp.webp",)),
    Case("worst accepted PNG: 8192x4096 RGBA", ("budget.png",)),
    Case("worst accepted WebP: 4096x2048", ("budget.webp",)),
    Case("worst accepted JPEG: 30 MP progressive", ("30mp-progressive.jpg",)),
    Case("3 x worst accepted PNG at once", ("budget.png",) * 3, trim_matters=True),
]


# --- the child: one measurement in a fresh interpreter ------------------------------------------------


def load_pipeline(where: str) -> ModuleType:
    """The module holding `PhotoStore`: a file (a one-file pipeline) or an importable module's name."""
    if not where.endswith(".py"):
        return importlib.import_module(where)
    spec = importlib.util.spec_from_file_location("photos_under_test", where)
    assert spec is not None and spec.loader is not None
    photos = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = photos  # dataclasses look their module up while the class is made
    spec.loader.exec_module(photos)
    return photos


def child(where: str, store_dir: str, no_trim: bool, inputs: list[str]) -> None:
    photos = load_pipeline(where)
    if no_trim:
        setattr(photos, "release_freed_memory", lambda: None)  # noqa: B010  (a module's function)
    datas = [Path(p).read_bytes() for p in inputs]
    store = photos.PhotoStore(Path(store_dir), MAX_BYTES)
    reset = reset_peak()  # if not, VmHWM also covers start-up, which stays below this RSS anyway
    before = memory()
    outcomes: list[str] = []
    lock = threading.Lock()

    def save(data: bytes) -> None:
        try:
            saved = store.save(data)  # a coroutine since photos have storage backends: one loop per thread
            stored = asyncio.run(saved) if inspect.iscoroutine(saved) else saved
            outcome = f"stored {stored.width}x{stored.height}"
        except Exception as exc:
            outcome = f"{type(exc).__name__}: {getattr(exc, 'message', str(exc))}"
        with lock:
            outcomes.append(outcome)

    started = time.perf_counter()
    threads = [threading.Thread(target=save, args=(data,)) for data in datas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    after = memory()
    print(
        json.dumps(
            {
                "base": before["VmRSS"],
                "peak": after["VmHWM"],
                "after": after["VmRSS"],
                "seconds": seconds,
                "outcomes": outcomes,
                "reset": reset,
            }
        )
    )


# --- the parent ---------------------------------------------------------------------------------------


def run_case(module: str, case: Case, paths: dict[str, Path], folder: Path, no_trim: bool) -> dict[str, Any]:
    store = Path(tempfile.mkdtemp(dir=folder, prefix="store-"))
    command = [sys.executable, __file__, *(["--no-trim"] if no_trim else []), "--child", module, str(store)]
    command += [str(paths[name]) for name in case.inputs]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"{case.title}: the measuring process failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


SERVE_CASES = [*CASES, Case("12 x worst accepted PNG at once", ("budget.png",) * 12)]


def serve_case(case: Case, paths: dict[str, Path], folder: Path) -> dict[str, Any]:
    """Upload the case's files at once to a fresh `souk serve`; the server's RSS figures."""
    import httpx  # not in the measuring child: only what it measures is imported there
    from harness.process import migrate_folder, start_souk, stop_souk

    data_dir = Path(tempfile.mkdtemp(dir=folder, prefix="serve-"))
    migrate_folder(data_dir)
    server = start_souk(data_dir, data_dir / "serve.log")
    try:
        pid = server.process.pid
        token = httpx.post(f"{server.base}/api/devices", timeout=30).json()["token"]
        datas = [paths[name].read_bytes() for name in case.inputs]
        time.sleep(0.5)  # let start-up settle before taking the baseline
        reset = reset_peak(pid)
        before = memory(pid)
        outcomes: list[str] = []
        lock = threading.Lock()

        def upload(data: bytes) -> None:
            r = httpx.post(
                f"{server.base}/api/photos",
                files={"file": ("photo", data, "application/octet-stream")},
                headers={"Authorization": f"Bearer {token}"},
                timeout=120,
            )
            if r.status_code == 201:
                photo = r.json()["photo"]
                outcome = f"201 {photo.get('width')}x{photo.get('height')}"
            else:
                outcome = f"{r.status_code}: {r.json().get('error')}"
            with lock:
                outcomes.append(outcome)

        started = time.perf_counter()
        threads = [threading.Thread(target=upload, args=(data,)) for data in datas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        after = memory(pid)
    finally:
        stop_souk(server)
    return {
        "base": before["VmRSS"],
        "peak": after["VmHWM"],
        "after": after["VmRSS"],
        "seconds": seconds,
        "outcomes": outcomes,
        "reset": reset,
    }


def describe(outcomes: list[str]) -> str:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        short = outcome if len(outcome) <= 70 else outcome[:67] + "..."
        counts[short] = counts.get(short, 0) + 1
    return "; ".join(f"{n} x {o}" if n > 1 else o for o, n in counts.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--skip-old", action="store_true", help="do not run the committed pipeline")
    parser.add_argument("--only", help="run only the cases whose title contains this")
    parser.add_argument("--serve", action="store_true", help="upload through a real `souk serve` instead")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--no-trim", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        module, store_dir, *inputs = args.child
        child(module, store_dir, args.no_trim, inputs)
        return
    if not Path("/proc/self/status").exists():
        sys.exit("needs Linux: RSS is read from /proc/self/status")

    with tempfile.TemporaryDirectory(prefix="souk-bench-photos-") as tmp:
        folder = Path(tmp)
        print("making inputs ...", flush=True)
        paths = make_inputs(folder)
        for name, path in paths.items():
            print(f"  {name:<22} {path.stat().st_size / 1000:>8,.0f} KB")
        if args.serve:
            print()
            print(
                f"{'case (through souk serve)':<40} {'base':>6} {'peak':>6} {'+peak':>6} {'after':>6} {'s':>5}  outcome"
            )
            for case in SERVE_CASES:
                if args.only and args.only.lower() not in case.title.lower():
                    continue
                r = serve_case(case, paths, folder)
                print(
                    f"{case.title:<40} {r['base'] / MB:>6.0f} {r['peak'] / MB:>6.0f} "
                    f"{(r['peak'] - r['base']) / MB:>6.0f} {r['after'] / MB:>6.0f} {r['seconds']:>5.1f}  "
                    f"{describe(r['outcomes'])}" + ("" if r["reset"] else "  (VmHWM not reset)"),
                    flush=True,
                )
            print()
            print("Server RSS: +peak = VmHWM - VmRSS before the uploads; after = VmRSS once they were answered.")
            return
        implementations: list[tuple[str, str, bool]] = []
        one_file = ROOT / "server" / "photos.py"
        current = str(one_file) if one_file.exists() else "server.photos.store"
        committed = subprocess.run(
            ["git", "show", "HEAD:server/photos.py"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout
        if not args.skip_old and committed and not (one_file.exists() and committed == one_file.read_text()):
            old = folder / "old_photos.py"
            old.write_text(committed)
            implementations.append(("old", str(old), False))
        implementations.append(("new", current, False))

        print()
        print(f"{'case':<40} {'code':<8} {'base':>6} {'peak':>6} {'+peak':>6} {'after':>6} {'s':>5}  outcome")
        print(f"{'':<40} {'':<8} {'MB':>6} {'MB':>6} {'MB':>6} {'MB':>6}")
        for case in CASES:
            if args.only and args.only.lower() not in case.title.lower():
                continue
            runs = [(name, module, False) for name, module, _ in implementations]
            if case.trim_matters:
                runs.append(("no-trim", current, True))
            for name, module, no_trim in runs:
                r = run_case(module, case, paths, folder, no_trim)
                print(
                    f"{case.title:<40} {name:<8} {r['base'] / MB:>6.0f} {r['peak'] / MB:>6.0f} "
                    f"{(r['peak'] - r['base']) / MB:>6.0f} {r['after'] / MB:>6.0f} {r['seconds']:>5.1f}  "
                    f"{describe(r['outcomes'])}" + ("" if r["reset"] else "  (VmHWM not reset)"),
                    flush=True,
                )
        print()
        print("+peak = VmHWM - VmRSS before the saves; after = VmRSS once they returned. 1 MB = 2^20 bytes.")


if __name__ == "__main__":
    main()
