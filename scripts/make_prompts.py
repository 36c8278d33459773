#!/usr/bin/env python3
"""Synthesise prompts/<lang>/<id>.wav from prompts/catalogue.toml.

Not part of the build or of CI: the recordings are committed, so a fresh checkout needs no
speech tools. Run it after editing the catalogue (see docs/prompts.md):

    python3 scripts/make_prompts.py            # all languages
    python3 scripts/make_prompts.py --lang ja  # one language (repeatable)

Tools: pyopenjtalk-plus (PyPI) for Japanese; espeak-ng and sox (Debian) for the others.

Pipeline per prompt: synthesise -> resample to 8 kHz mono (sox, `rate -v`) -> trim leading and
trailing silence -> normalise the active speech level to TARGET_DBFS -> fail on clipping ->
5 ms fades and PAD_MS of silence at each end -> 16-bit PCM WAV.

Loudness: every prompt in every language is set to the same active speech level, -23 dBFS RMS
(about -20 dBm0, a nominal telephone speech level), measured over the 10 ms frames within
GATE_DB of the loudest frame (a simplified ITU-T P.56 active level: pauses inside a sentence do
not pull the level down). The synthesisers' peaks sit up to 21 dB above that level, so -23
leaves about 2 dB of headroom; the script fails if any prompt would clip.

Idempotent: the output depends only on the catalogue and the tool versions; a file whose
bytes would not change is not rewritten. Every WAV this script writes carries a RIFF INFO
marker (ISFT = MARKER); a WAV without it is taken for a studio recording and never
overwritten (unless --force), and a marked WAV whose id left the catalogue is deleted.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import shutil
import struct
import subprocess
import sys
import tomllib
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ROOT / "prompts"
RATE = 8000
TARGET_DBFS = -23.0  # about -20 dBm0 on G.711 (0 dBm0 is 3.17 dB below full scale)
GATE_DB = 40.0
PAD_MS = 50
FADE_MS = 5
FRAME = RATE // 100  # 10 ms
MARKER = b"carecall scripts/make_prompts.py"

# Duration sanity bounds in seconds, of the trimmed speech (pads excluded).
PROMPT_SECONDS = (0.15, 18.0)  # unit_degrees is one syllable (度, 도)
WORD_SECONDS = (0.08, 2.5)

# espeak-ng words per minute: 175 is its default; 150 is ~15 % slower for elderly listeners.
ESPEAK_WPM = 150
# pyopenjtalk speed factor, the same ~10-15 % slowing for Japanese.
JTALK_SPEED = 0.88


@dataclass(frozen=True)
class Voice:
    """How one language is synthesised: the engine, its voice and the catalogue key to read."""

    engine: str  # "jtalk" or "espeak"
    voice: str  # espeak-ng voice name, or a label for Japanese
    text_key: str  # key in [prompts.*] / table in [words.*] holding the text to synthesise


VOICES = {
    "ja": Voice("jtalk", "pyopenjtalk-plus (bundled HTS voice)", "ja"),
    "en": Voice("espeak", "en-gb", "en"),
    "zh-CN": Voice("espeak", "cmn-latn-pinyin", "zh-CN.pinyin"),
    "yue": Voice("espeak", "yue", "yue"),
    "zh-TW": Voice("espeak", "cmn-latn-pinyin", "zh-TW.pinyin"),
    "ko": Voice("espeak", "ko", "ko"),
    "es": Voice("espeak", "es-419", "es"),
    "pt": Voice("espeak", "pt-br", "pt"),
}


class PromptError(Exception):
    """A prompt that cannot be made or fails a check; the message names it."""


def main() -> int:
    args = parse_args()
    catalogue = tomllib.loads((PROMPTS / "catalogue.toml").read_text(encoding="utf-8"))
    langs = args.lang or list(VOICES)
    check_tools(langs)
    rows = []
    try:
        for lang in langs:
            rows.append(make_language(catalogue, lang, args.force))
    except PromptError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print_table(rows)
    return 0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lang", action="append", choices=list(VOICES), help="only this language")
    p.add_argument("--force", action="store_true", help="also overwrite unmarked (studio) WAVs")
    return p.parse_args()


def check_tools(langs: list[str]) -> None:
    need = {"sox"} | {"espeak-ng" for l in langs if VOICES[l].engine == "espeak"}
    missing = [t for t in sorted(need) if shutil.which(t) is None]
    if missing:
        sys.exit(f"error: missing tools: {', '.join(missing)} (apt-get install espeak-ng sox)")
    if any(VOICES[l].engine == "jtalk" for l in langs):
        try:
            import pyopenjtalk  # noqa: F401
        except ImportError:
            sys.exit("error: pyopenjtalk missing (pip install pyopenjtalk-plus)")


def make_language(catalogue: dict, lang: str, force: bool) -> dict:
    """Writes every prompt and number word of `lang`; returns its table row."""
    voice = VOICES[lang]
    items = [(pid, texts[voice.text_key], PROMPT_SECONDS) for pid, texts in catalogue["prompts"].items()]
    words = catalogue["words"][voice.text_key]
    items += [(wid, text, WORD_SECONDS) for wid, text in words.items()]
    out_dir = PROMPTS / lang
    out_dir.mkdir(parents=True, exist_ok=True)
    durations, written, kept = {}, 0, []
    for pid, text, bounds in items:
        samples = process(synthesise(voice, text), f"{lang}/{pid}", bounds)
        durations[pid] = len(samples) / RATE
        status = write_if_changed(out_dir / f"{pid}.wav", samples, force)
        written += status == "written"
        if status == "studio":
            kept.append(pid)
    removed = remove_stale(out_dir, {pid for pid, _, _ in items})
    longest = max(durations, key=durations.get)
    prompt_ids = set(catalogue["prompts"])
    return {
        "lang": lang,
        "voice": voice.voice,
        "prompts": sum(1 for p in durations if p in prompt_ids),
        "words": sum(1 for p in durations if p not in prompt_ids),
        "total": sum(durations.values()),
        "longest": (longest, durations[longest]),
        "bytes": sum(f.stat().st_size for f in out_dir.glob("*.wav")),
        "written": written,
        "kept": kept,
        "removed": removed,
    }


def synthesise(voice: Voice, text: str) -> np.ndarray:
    """Float samples in [-1, 1] at RATE Hz, mono."""
    if voice.engine == "jtalk":
        import pyopenjtalk

        x, rate = pyopenjtalk.tts(text, speed=JTALK_SPEED)
        return resample(np.asarray(x, dtype=np.float32) / 32768.0, int(rate))
    wav = subprocess.run(
        ["espeak-ng", "-v", voice.voice, "-s", str(ESPEAK_WPM), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as w:
        raw = w.readframes(w.getnframes())
        rate = w.getframerate()
    return resample(np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0, rate)


def resample(x: np.ndarray, rate: int) -> np.ndarray:
    """Resamples float mono samples to RATE with sox's very-high-quality rate effect."""
    fmt = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "--endian", "little"]
    out = subprocess.run(
        ["sox", *fmt, "-r", str(rate), "-", *fmt, "-r", str(RATE), "-", "rate", "-v"],
        input=x.astype("<f4").tobytes(),
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(out, dtype="<f4").astype(np.float64)


def process(x: np.ndarray, name: str, bounds: tuple[float, float]) -> np.ndarray:
    """Trim, check duration, normalise, check clipping, fade and pad; int16 samples."""
    frames = frame_rms(x)
    if frames.size == 0 or frames.max() <= 0:
        raise PromptError(f"{name}: synthesiser produced silence")
    active = np.flatnonzero(frames >= frames.max() * 10 ** (-GATE_DB / 20))
    start = max(active[0] - 1, 0) * FRAME  # keep one quiet frame for soft onsets
    end = min((active[-1] + 2) * FRAME, len(x))
    speech = x[start:end]
    seconds = len(speech) / RATE
    if not bounds[0] <= seconds <= bounds[1]:
        raise PromptError(f"{name}: {seconds:.2f} s of speech, outside {bounds[0]}-{bounds[1]} s")
    level = math.sqrt(np.mean(frames[active] ** 2))
    speech = speech * (10 ** (TARGET_DBFS / 20) / level)
    peak = np.abs(speech).max()
    if peak >= 32767 / 32768:
        raise PromptError(f"{name}: clips (peak {20 * math.log10(peak):+.1f} dBFS)")
    fade = np.sin(np.linspace(0, math.pi / 2, RATE * FADE_MS // 1000)) ** 2
    speech[: fade.size] *= fade
    speech[-fade.size :] *= fade[::-1]
    pad = np.zeros(RATE * PAD_MS // 1000)
    return np.round(np.concatenate([pad, speech, pad]) * 32767).astype("<i2")


def frame_rms(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME
    return np.sqrt(np.mean(x[: n * FRAME].reshape(n, FRAME) ** 2, axis=1))


def wav_bytes(samples: np.ndarray) -> bytes:
    """A RIFF WAVE file: fmt (PCM, mono, RATE, 16-bit), LIST/INFO/ISFT marker, data."""
    fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
    isft = MARKER + b"\0"
    info = b"INFO" + chunk(b"ISFT", isft)  # sub-chunks are padded to even length too
    data = samples.tobytes()
    chunks = chunk(b"fmt ", fmt) + chunk(b"LIST", info) + chunk(b"data", data)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def chunk(tag: bytes, body: bytes) -> bytes:
    return tag + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def write_if_changed(path: Path, samples: np.ndarray, force: bool) -> str:
    """'written', 'same' or 'studio' (an unmarked WAV left alone)."""
    new = wav_bytes(samples)
    if path.exists():
        old = path.read_bytes()
        if old == new:
            return "same"
        if MARKER not in old and not force:
            return "studio"
    tmp = path.with_suffix(".wav.tmp")
    tmp.write_bytes(new)
    os.replace(tmp, path)
    return "written"


def remove_stale(out_dir: Path, ids: set[str]) -> list[str]:
    """Deletes marked WAVs whose id is no longer in the catalogue."""
    removed = []
    for f in sorted(out_dir.glob("*.wav")):
        if f.stem not in ids and MARKER in f.read_bytes():
            f.unlink()
            removed.append(f.stem)
    return removed


def print_table(rows: list[dict]) -> None:
    print(f"{'lang':6} {'voice':38} {'prompts':>7} {'words':>5} {'total s':>8} {'KiB':>5}  longest")
    for r in rows:
        lid, lsec = r["longest"]
        print(
            f"{r['lang']:6} {r['voice']:38} {r['prompts']:7} {r['words']:5} {r['total']:8.1f}"
            f" {r['bytes'] // 1024:5}  {lid} {lsec:.1f} s"
        )
    for r in rows:
        notes = []
        if r["written"]:
            notes.append(f"{r['written']} written")
        if r["kept"]:
            notes.append(f"studio recordings kept: {', '.join(r['kept'])}")
        if r["removed"]:
            notes.append(f"removed stale: {', '.join(r['removed'])}")
        if notes:
            print(f"{r['lang']}: {'; '.join(notes)}")


if __name__ == "__main__":
    sys.exit(main())
