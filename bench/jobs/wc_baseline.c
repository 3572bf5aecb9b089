/*
 * A plain single-process, single-threaded WordCount baseline for bench/jobs/wordcount_bench.py.
 *
 *   gcc -O2 -o wc_baseline wc_baseline.c && ./wc_baseline corpus.txt > counts.txt
 *
 * Reads the file in 1 MiB chunks and prints one `word: count` line per distinct word, in table
 * order (callers sort). A word is a maximal run of bytes in [A-Za-z0-9_'] or >= 0x80.
 *
 * The approximation: Beam's example uses Python's `[\w']+` over Unicode scalars. For ASCII the
 * rule above is exact. Treating every byte >= 0x80 as a word byte is exact only when every
 * non-ASCII character of the input is a letter or a number (true for the benchmark's generated
 * corpus); non-ASCII punctuation or spaces (e.g. U+00A0, U+2014, U+00AB) and combining marks
 * would join words that Python splits. Invalid UTF-8 is not checked.
 *
 * Hash table: open addressing, linear probing, FNV-1a 64, words copied into one growing arena.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t hash;
    size_t offset; /* into arena */
    uint32_t length;
    uint64_t count;
} Entry;

static Entry *entries;
static size_t nentries, entries_cap;
static int32_t *slots;
static size_t nslots;
static char *arena;
static size_t arena_len, arena_cap;
static unsigned char is_word[256];

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n);
    if (!q) { perror("realloc"); exit(2); }
    return q;
}

static void grow_slots(void) {
    size_t n = nslots ? nslots * 2 : 1 << 16;
    int32_t *s = malloc(n * sizeof *s);
    if (!s) { perror("malloc"); exit(2); }
    memset(s, 0xff, n * sizeof *s);
    for (size_t i = 0; i < nentries; i++) {
        size_t j = entries[i].hash & (n - 1);
        while (s[j] >= 0) j = (j + 1) & (n - 1);
        s[j] = (int32_t)i;
    }
    free(slots);
    slots = s;
    nslots = n;
}

static void add(const char *w, size_t len) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) { h ^= (unsigned char)w[i]; h *= 0x100000001b3ULL; }
    size_t j = h & (nslots - 1);
    for (;;) {
        int32_t e = slots[j];
        if (e < 0) break;
        Entry *x = &entries[e];
        if (x->hash == h && x->length == len && memcmp(arena + x->offset, w, len) == 0) { x->count++; return; }
        j = (j + 1) & (nslots - 1);
    }
    if (nentries == entries_cap) {
        entries_cap = entries_cap ? entries_cap * 2 : 1 << 15;
        entries = xrealloc(entries, entries_cap * sizeof *entries);
    }
    if (arena_len + len > arena_cap) {
        while (arena_len + len > arena_cap) arena_cap = arena_cap ? arena_cap * 2 : 1 << 20;
        arena = xrealloc(arena, arena_cap);
    }
    memcpy(arena + arena_len, w, len);
    entries[nentries] = (Entry){h, arena_len, (uint32_t)len, 1};
    arena_len += len;
    slots[j] = (int32_t)nentries++;
    if (nentries * 2 > nslots) grow_slots();
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s FILE\n", argv[0]); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    for (int c = 0; c < 256; c++)
        is_word[c] = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                     || c == '_' || c == '\'' || c >= 0x80;
    grow_slots();
    size_t cap = 1 << 20, carry = 0;
    char *buf = malloc(cap);
    if (!buf) { perror("malloc"); return 2; }
    for (;;) {
        size_t n = fread(buf + carry, 1, cap - carry, f);
        size_t end = carry + n;
        int eof = n == 0;
        size_t i = 0, last = 0; /* last: start of the unfinished word at the chunk's end */
        while (i < end) {
            while (i < end && !is_word[(unsigned char)buf[i]]) i++;
            size_t s = i;
            while (i < end && is_word[(unsigned char)buf[i]]) i++;
            if (i == end && !eof) { last = s; break; } /* may continue in the next chunk */
            if (i > s) add(buf + s, i - s);
            last = i;
        }
        if (eof) break;
        carry = end - last;
        if (carry == cap) { cap *= 2; buf = xrealloc(buf, cap); } /* a word longer than the buffer */
        memmove(buf, buf + last, carry);
    }
    if (ferror(f)) { perror("read"); return 2; }
    fclose(f);
    char out[1 << 16];
    setvbuf(stdout, out, _IOFBF, sizeof out);
    for (size_t e = 0; e < nentries; e++)
        printf("%.*s: %llu\n", (int)entries[e].length, arena + entries[e].offset, (unsigned long long)entries[e].count);
    return 0;
}
