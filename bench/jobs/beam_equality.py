#!/usr/bin/env python3
"""Equality with Beam (issue 6): Trireme's `wordcount` job and Apache Beam's own WordCount
example (`python -m apache_beam.examples.wordcount`, DirectRunner, installed into a cached
virtual environment) on a corpus of hard cases must produce the same multiset of
`word: count` lines, exactly. Trireme runs as a real three-node release cluster (the
`trireme` binary, job through POST /v1/jobs), split into several map tasks and shards.

The corpus: precomposed and decomposed accents, Greek, Cyrillic, CJK, Arabic, Devanagari,
Thai, Hangul, non-BMP letters and digits, digits of other scripts, numeric symbols (½, ², Ⅳ),
underscores, apostrophes (ASCII and typographic), punctuation that is not `\\w` (NBSP, em dash,
undertie), emoji, CRLF and lone CR, empty lines, tabs; hand-written lines plus seeded random
mixes. Exits 1 on any difference and prints the first ones.

  python3 bench/jobs/beam_equality.py [--workdir DIR] [--no-build] [--mb 2]
"""
import argparse
import os
import random
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jobbench  # noqa: E402
from jobbench import log  # noqa: E402

HAND_WRITTEN = [
    "The cat's hat; the CAT's hat.", "don't 'tis the season's end'", "''", "snake_case __dunder__ _",
    "café naïve résumé Ångström", "cafe\u0301 nai\u0308ve re\u0301sume\u0301", "e\u0301t\u00e9",
    "αβγ δέλτα Ωμέγα", "привет мир Ёжик", "漢字、かな。カタカナ", "مرحبا بالعالم ١٢٣",
    "हिन्दी भाषा", "ภาษาไทย", "한국어 텍스트", "x² ½cup Ⅳ ⅷ ٣ ૭ ௧௨", "１２３ ＡＢＣ", "it’s ‘quoted’ “double”",
    "tab\tsep\u00a0nbsp em—dash a\u203fb a-b", "ok😀ok 👍🏽 thumbs", "𝐀𝐁𝐂 𐍈𐍉 𠀀𠀁 𝟙𝟚", "ǅungla Dž ǈ", "µ ª º ˆ ʰ",
    "zero\u200bwidth joiner\u200dhere", "3.14 1,000 10:30 2024-01-01", "a1b2_c3'd4", "", "   ", "\r",
    "ﬁnance ﬂow", "Ⅻ ↀ 〇 〡", "ﾊﾝｶｸ ｶﾀｶﾅ", "ΆΈΉ ά έ ή", "Straße STRASSE", "İstanbul ıi",
]

POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'",
    "éèêëáàâäíïîóöôúüùûçñøåæßœÉÀÇ", "\u0301\u0300\u0308\u0327\u0303",  # combining marks (Mn)
    "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΩάέ", "абвгдежзийклмнопрстуфхцчшщъыьэюяЁЖ", "漢字語言文化東京北京",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي", "١٢٣٤٥٦٧٨٩٠", "हिन्दीभाषा", "ภาษาไทย", "한국어텍스트",
    "²³¹½¼¾ⅠⅡⅢⅣⅤ", "’‘“”«»—–…•·", "\u00a0\u2009\u200b\u200d\u203f", "😀👍🏽🎉", "𝐀𝐁𝐂𐍈𠀀𝟙",
    " ,.;:!?-()[]{}\"/\\|@#$%^&*+=<>~`", "\t",
]


def corpus_text(megabytes, seed):
    rng = random.Random(seed)
    lines = list(HAND_WRITTEN)
    size = sum(len(line.encode()) for line in lines)
    while size < megabytes * 1_000_000:
        parts = []
        for _ in range(rng.randint(0, 25)):
            pool = rng.choice(POOLS)
            parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 8))))
            parts.append(rng.choice([" ", " ", " ", ", ", "", "\t", "\u00a0", "'"]))
        line = "".join(parts)
        lines.append(line)
        size += len(line.encode()) + 1
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        out.append("\r\n" if i % 7 == 3 else ("\n\n" if i % 11 == 5 else "\n"))
    return "".join(out).encode()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", default=jobbench.DEFAULT_WORKDIR)
    p.add_argument("--no-build", action="store_true", help="use the existing release binary")
    p.add_argument("--binary", help="a trireme release binary to use instead of building one")
    p.add_argument("--mb", type=float, default=2, help="corpus size in MB")
    p.add_argument("--seed", type=int, default=6)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop the nodes
    work = os.path.abspath(args.workdir)
    os.makedirs(work, exist_ok=True)
    binary = args.binary or jobbench.trireme_binary(build=not args.no_build)
    beam_py = jobbench.beam_python(work)
    name = "equality-corpus.txt"
    path = os.path.join(work, name)
    data = corpus_text(args.mb, args.seed)
    with open(path, "wb") as f:
        f.write(data)
    lines = data.count(b"\n")
    log(f"corpus: {len(data)} bytes, {lines} lines -> {path}")

    log(f"Beam {jobbench.beam_version(beam_py)} DirectRunner ...")
    _, _, beam_files, _ = jobbench.run_beam_wordcount(beam_py, path, os.path.join(work, "equality-beam", "counts"))
    beam = jobbench.read_counts(beam_files)

    log("Trireme three-node cluster ...")
    shards = 4
    split = max(4096, len(data) // 5)  # several map tasks, splits cut mid-line
    with jobbench.Cluster(binary, work, "equality", split, 2) as cluster:
        _, job = jobbench.run_wordcount(cluster, name, "equality-trireme/counts", shards, temp_rel="tmp-equality")
    trireme = jobbench.read_counts(jobbench.trireme_outputs(work, "equality-trireme/counts", shards))

    diff = jobbench.diff_counts(trireme, beam, "trireme", "beam", limit=20)
    words = sum(int(line.rsplit(b": ", 1)[1]) for line in beam)
    print(f"Beam: {len(beam)} distinct words, {words} words; Trireme: {len(trireme)} distinct words "
          f"({job['counters'].get('tasksTotal', '?')} tasks)")
    if diff:
        print("DIFFERENT (first differences):\n" + "\n".join(diff))
        return 1
    print("EQUAL: the multisets of `word: count` lines are identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
