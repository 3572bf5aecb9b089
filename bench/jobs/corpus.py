"""Deterministic WordCount corpora for bench/jobs (stdlib only).

One endless seeded stream of lines; a corpus of N MB (10^6 bytes) is the stream cut at the last
line end at or before N MB, so a smaller corpus is always a prefix of a larger one (the 100 MB
corpus is the first 100 MB of the 1 GB corpus, which is how Beam runs on a "prefix"). To write
1 GB in seconds with the stdlib, the stream is a seeded random sequence of POOL_BLOCKS distinct
blocks of about 1.4 MB each (about 70 MB of distinct text): word frequencies stay Zipf-like and
the counting work is the same as for unique text.

Vocabulary: 300,000 distinct words drawn with Zipf weights (s = 1.05), like natural text. About
8% of the vocabulary is non-ASCII: Latin letters with precomposed accents, Greek, Cyrillic, CJK
and Arabic letters. Also words with apostrophes, digits and underscores; separators include
spaces, ASCII punctuation, CRLF line ends and empty lines. Every non-ASCII character is a letter
(no non-ASCII punctuation, no combining marks), so the C baseline's "bytes >= 0x80 are word
bytes" rule gives exactly Beam's words here; beam_equality.py covers the hard cases.
"""
import itertools
import os
import random

VERSION = 2
POOL_BLOCKS = 48
VOCABULARY = 300_000
ZIPF_S = 1.05
WORDS_PER_BLOCK = 200_000

SYLLABLES = ("ka ri to na me su lo ve da pi zu ro ne ta mi so ha ku la be gi fo yu wa "
             "stra tion ing ed er th sh ch qu pro con ex").split()
ACCENTED = list("éèêëáàâäíïîóöôúüùûçñøåæßœ")
GREEK = [chr(c) for c in range(0x3B1, 0x3CA)]          # α..ω (letters)
CYRILLIC = [chr(c) for c in range(0x430, 0x450)]       # а..я
CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]   # CJK unified ideographs (Lo)
ARABIC = [chr(c) for c in range(0x628, 0x63B)]         # ب..غ (Lo)


def make_word(rng):
    kind = rng.random()
    if kind < 0.02:
        return ''.join(rng.choice(CJK) for _ in range(rng.randint(1, 3)))
    if kind < 0.04:
        return ''.join(rng.choice(GREEK) for _ in range(rng.randint(2, 9)))
    if kind < 0.06:
        return ''.join(rng.choice(CYRILLIC) for _ in range(rng.randint(2, 10)))
    if kind < 0.07:
        return ''.join(rng.choice(ARABIC) for _ in range(rng.randint(2, 7)))
    word = ''.join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4)))
    if kind < 0.08:
        i = rng.randrange(len(word) + 1)
        word = word[:i] + rng.choice(ACCENTED) + word[i:]
    elif kind < 0.10:
        word = word + "'" + rng.choice(("s", "t", "ll", "re", "d"))
    elif kind < 0.11:
        word = word + "_" + rng.choice(SYLLABLES)
    elif kind < 0.13:
        word = word + str(rng.randrange(100))
    elif kind < 0.14:
        word = str(rng.randrange(10_000))
    if rng.random() < 0.1:
        word = word.capitalize()
    return word


def vocabulary(seed):
    rng = random.Random(seed)
    words, seen = [], set()
    while len(words) < VOCABULARY:
        w = make_word(rng)
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def blocks(seed):
    """Endless stream of text blocks, each ending in a line end."""
    rng = random.Random(seed + 1)
    words = vocabulary(seed)
    cum = list(itertools.accumulate(1.0 / (i + 1) ** ZIPF_S for i in range(len(words))))
    seps = [" "] * 120 + [", "] * 6 + [". "] * 4 + ["; ", " - ", ": ", " (", ") ", "!", "?\n", '"', " \t"] \
        + ["\n"] * 8 + ["\r\n"] * 2 + ["\n\n"]
    pool = []
    for _ in range(POOL_BLOCKS):
        ws = rng.choices(words, cum_weights=cum, k=WORDS_PER_BLOCK)
        ss = rng.choices(seps, k=WORDS_PER_BLOCK)
        ss[-1] = "\n"
        pool.append("".join(itertools.chain.from_iterable(zip(ws, ss))).encode())
    yield from pool
    while True:
        yield pool[rng.randrange(POOL_BLOCKS)]


def path_for(workdir, megabytes, seed):
    return os.path.join(workdir, f"corpus-v{VERSION}-s{seed}-{megabytes}MB.txt")


def ensure(workdir, megabytes, seed=1, log=print):
    """The corpus file of `megabytes` MB (cached in workdir); returns its path."""
    path = path_for(workdir, megabytes, seed)
    limit = megabytes * 1_000_000
    if os.path.exists(path) and limit - 1_000_000 < os.path.getsize(path) <= limit:
        return path
    log(f"generating {path}")
    tmp = path + ".tmp"
    written = 0
    with open(tmp, "wb") as f:
        for block in blocks(seed):
            if written + len(block) > limit:
                cut = block.rfind(b"\n", 0, limit - written)
                f.write(block[:cut + 1])
                written += cut + 1
                break
            f.write(block)
            written += len(block)
    os.replace(tmp, path)
    return path
