/* inspect_kit._sha256x: SHA-256 of prefix + message for many short messages, in C.

   hash_strs(prefix, messages, threads, chunk, digests, keys, impl)       messages: a list or tuple of str
   hash_packed(prefix, data, offsets, threads, chunk, digests, keys, impl) message i: data[offsets[i]:offsets[i+1]]
   hash_counters(prefix, first, n, threads, chunk, impl)      message i: the decimal digits of first + i
   tickets_of(block, indexes)                                 consistent-sampler tickets of digests
   sort_keys(keys)                                            a radix argsort of the ticket keys
   accelerated()                                              "sha-ni" if this CPU has it, else None
   frame_chunk(rows, last), frame_split(data, last)           the draw's frame passes (see below)
   json_lines(prefixes, columns, suffix)                      the log's lines of child rows (see below)
   offsets_of(parts)                                          packed identifiers' offsets from their lengths
   packed_take(data, offsets, indices)                        packed identifiers at positions, decoded

   The digest of every message is hashlib.sha256(prefix + message.encode()).digest(); the prefix's
   full 64-byte blocks are compressed once (the midstate), then each message costs one or two
   compressions. hash_strs and hash_packed return (digests, keys): the 32-byte digests
   concatenated if `digests`, and if `keys` the first 9 digits of each digest's consistent-sampler
   ticket as native uint64s (inspect_kit.draw.core.sampler._prefix_keys); None for what is not
   asked. Blocks are compressed by the CPU's SHA extensions (x86 SHA-NI, detected at run time with
   cpuid; compiled with a target attribute, so the module builds with any gcc or clang) or by the
   portable C below (impl: 0 the fastest available, 1 portable, 2 SHA-NI).

   The GIL is released while hashing; `threads` threads (this one included) take `chunk` messages
   at a time from a shared counter, so a busy core slows nobody down. A digest does not depend on
   which thread computed it: the bytes are the same for any number of threads. The str messages
   are first gathered under the GIL into a private tuple (hashable_items: the str itself where its
   characters are its UTF-8 bytes, else its UTF-8 encoding), which holds them while the threads
   read their bytes. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SHA256X_NO_SHANI)
#define HAVE_SHANI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#if !defined(_WIN32)
#define HAVE_THREADS 1
#include <pthread.h>
#endif

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t IV256[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

typedef void (*compress_fn)(uint32_t state[8], const uint8_t *blocks, size_t n_blocks);
/* two one-block compressions at once: s[l] from the block p[l] */
typedef void (*compress2_fn)(uint32_t *s[2], const uint8_t *p[2]);

static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* FIPS 180-4, section 6.2.2, one 64-byte block at a time. */
static void compress_portable(uint32_t s[8], const uint8_t *p, size_t n_blocks) {
    uint32_t w[64];
    for (; n_blocks; n_blocks--, p += 64) {
        for (int t = 0; t < 16; t++) w[t] = load_be32(p + 4 * t);
        for (int t = 16; t < 64; t++) {
            uint32_t x = w[t - 15], y = w[t - 2];
            uint32_t s0 = ROTR(x, 7) ^ ROTR(x, 18) ^ (x >> 3);
            uint32_t s1 = ROTR(y, 17) ^ ROTR(y, 19) ^ (y >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32_t a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        for (int t = 0; t < 64; t++) {
            uint32_t t1 = h + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K256[t] + w[t];
            uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        s[0] += a;
        s[1] += b;
        s[2] += c;
        s[3] += d;
        s[4] += e;
        s[5] += f;
        s[6] += g;
        s[7] += h;
    }
}

#ifdef HAVE_SHANI
/* The same compression with the SHA extensions: sha256rnds2 does two rounds on the state held as
   (A, B, E, F) and (C, D, G, H); sha256msg1/msg2 extend the message schedule four words at a
   time: W[t..t+3] = msg2(msg1(W[t-16..t-13], W[t-12..]) + W[t-7..t-4], W[t-4..t-1]). */
__attribute__((target("sha,sse4.1,ssse3"))) static void compress_shani(uint32_t s[8], const uint8_t *p,
                                                                       size_t n_blocks) {
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[0]), 0xB1); /* C D A B */
    __m128i st1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[4]), 0x1B); /* E F G H */
    __m128i st0 = _mm_alignr_epi8(tmp, st1, 8);                                      /* A B E F */
    st1 = _mm_blend_epi16(st1, tmp, 0xF0);                                           /* C D G H */
    for (; n_blocks; n_blocks--, p += 64) {
        __m128i save0 = st0, save1 = st1, w[4];
        for (int j = 0; j < 16; j++) {
            __m128i m;
            if (j < 4) {
                w[j] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * j)), swap);
            } else {
                __m128i next = _mm_sha256msg1_epu32(w[j & 3], w[(j + 1) & 3]);
                next = _mm_add_epi32(next, _mm_alignr_epi8(w[(j + 3) & 3], w[(j + 2) & 3], 4));
                w[j & 3] = _mm_sha256msg2_epu32(next, w[(j + 3) & 3]);
            }
            m = _mm_add_epi32(w[j & 3], _mm_loadu_si128((const __m128i *)&K256[4 * j]));
            st1 = _mm_sha256rnds2_epu32(st1, st0, m);
            st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(m, 0x0E));
        }
        st0 = _mm_add_epi32(st0, save0);
        st1 = _mm_add_epi32(st1, save1);
    }
    tmp = _mm_shuffle_epi32(st0, 0x1B);                                  /* F E B A */
    st1 = _mm_shuffle_epi32(st1, 0xB1);                                  /* D C H G */
    _mm_storeu_si128((__m128i *)&s[0], _mm_blend_epi16(tmp, st1, 0xF0)); /* D C B A */
    _mm_storeu_si128((__m128i *)&s[4], _mm_alignr_epi8(st1, tmp, 8));    /* H G F E */
}

/* Two independent one-block compressions at once (s[l] from block p[l], l = 0, 1): a round
   waits for the previous one's result, so interleaving two messages keeps the SHA unit busy
   (measured 1.6x the throughput of compress_shani on one-block messages). */
__attribute__((target("sha,sse4.1,ssse3"))) static void compress_shani_x2(uint32_t *s[2], const uint8_t *p[2]) {
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i st0[2], st1[2], save0[2], save1[2], w[2][4];
    for (int l = 0; l < 2; l++) {
        __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[l][0]), 0xB1);
        st1[l] = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[l][4]), 0x1B);
        st0[l] = _mm_alignr_epi8(tmp, st1[l], 8);
        st1[l] = _mm_blend_epi16(st1[l], tmp, 0xF0);
        save0[l] = st0[l];
        save1[l] = st1[l];
    }
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++) {
#pragma GCC unroll 2
        for (int l = 0; l < 2; l++) {
            __m128i m;
            if (j < 4) {
                w[l][j] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p[l] + 16 * j)), swap);
            } else {
                __m128i next = _mm_sha256msg1_epu32(w[l][j & 3], w[l][(j + 1) & 3]);
                next = _mm_add_epi32(next, _mm_alignr_epi8(w[l][(j + 3) & 3], w[l][(j + 2) & 3], 4));
                w[l][j & 3] = _mm_sha256msg2_epu32(next, w[l][(j + 3) & 3]);
            }
            m = _mm_add_epi32(w[l][j & 3], _mm_loadu_si128((const __m128i *)&K256[4 * j]));
            st1[l] = _mm_sha256rnds2_epu32(st1[l], st0[l], m);
            st0[l] = _mm_sha256rnds2_epu32(st0[l], st1[l], _mm_shuffle_epi32(m, 0x0E));
        }
    }
    for (int l = 0; l < 2; l++) {
        __m128i a = _mm_add_epi32(st0[l], save0[l]), b = _mm_add_epi32(st1[l], save1[l]);
        __m128i tmp = _mm_shuffle_epi32(a, 0x1B);
        b = _mm_shuffle_epi32(b, 0xB1);
        _mm_storeu_si128((__m128i *)&s[l][0], _mm_blend_epi16(tmp, b, 0xF0));
        _mm_storeu_si128((__m128i *)&s[l][4], _mm_alignr_epi8(b, tmp, 8));
    }
}

static int cpu_has_shani(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19))) return 0; /* SSSE3, SSE4.1 */
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 29) & 1; /* SHA */
}
#endif

static int has_shani = 0;

/* The compression for impl (0 the fastest available, 1 portable, 2 SHA-NI) into *f, and the
   paired one (or NULL) into *pair; -1 with ValueError set if impl is not available here. */
static int choose(int impl, Py_ssize_t chunk, compress_fn *f, compress2_fn *pair) {
    *pair = NULL;
    if (chunk < 1) {
        PyErr_SetString(PyExc_ValueError, "chunk must be at least 1");
        return -1;
    }
    *f = compress_portable;
    if (impl == 1 || (impl == 0 && !has_shani)) return 0;
#ifdef HAVE_SHANI
    if ((impl == 0 || impl == 2) && has_shani) {
        *f = compress_shani;
        *pair = compress_shani_x2;
        return 0;
    }
#endif
    PyErr_Format(PyExc_ValueError, "SHA-256 implementation %d is not available here", impl);
    return -1;
}

typedef struct {
    uint32_t mid[8];  /* the state after the prefix's full blocks */
    uint8_t tail[64]; /* the prefix's bytes after them */
    size_t tail_len;
    uint64_t prefix_len;
} Prefix;

static void prefix_init(Prefix *p, const uint8_t *prefix, size_t len, compress_fn f) {
    size_t full = len / 64;
    memcpy(p->mid, IV256, sizeof p->mid);
    if (full) f(p->mid, prefix, full);
    p->tail_len = len - 64 * full;
    memcpy(p->tail, prefix + 64 * full, p->tail_len);
    p->prefix_len = len;
}

static inline void put_length(uint8_t *end, uint64_t bits) {
    for (int k = 0; k < 8; k++) end[k] = (uint8_t)(bits >> (56 - 8 * k));
}

static char pair_digits[200];      /* pair_digits[2v], [2v + 1]: the digits of v < 100, units first */
static uint16_t reversed3[1000]; /* reversed3[v]: the 3 digits of v (zero-padded) reversed */
static uint64_t weight[8];        /* weight[k] = 2**(32 * (7 - k)) mod 10**9 */

/* The first 9 digits of the digest's ticket as one integer (inspect_kit.draw.core.sampler's
   _prefix_keys): x mod 10**9 of the digest x (big-endian 32-bit words h), written with 9 digits
   and reversed. x mod 10**9 = sum(h[k] * weight[k]) mod 10**9; each term is below
   2**32 * 10**9 < 2**62, so a sum of four stays below 2**64. */
static inline uint64_t ticket_key(const uint32_t h[8]) {
    uint64_t high = 0, low = 0, r;
    for (int k = 0; k < 4; k++) high += (uint64_t)h[k] * weight[k];
    for (int k = 4; k < 8; k++) low += (uint64_t)h[k] * weight[k];
    r = (high % 1000000000u + low % 1000000000u) % 1000000000u;
    return (uint64_t)reversed3[r % 1000] * 1000000u + (uint64_t)reversed3[r / 1000 % 1000] * 1000u +
           reversed3[r / 1000000];
}

static void init_tables(void) {
    uint64_t w = 1;
    for (int v = 0; v < 100; v++) {
        pair_digits[2 * v] = (char)('0' + v % 10);
        pair_digits[2 * v + 1] = (char)('0' + v / 10);
    }
    for (int v = 0; v < 1000; v++) reversed3[v] = (uint16_t)(v % 10 * 100 + v / 10 % 10 * 10 + v / 100);
    for (int k = 7; k >= 0; k--) {
        weight[k] = w;
        w = (w << 32) % 1000000000u; /* w < 10**9 < 2**30: the shift stays below 2**62 */
    }
}

/* The digest (state h) into out, its first 9 ticket digits into *key if key. */
static inline void finish(const uint32_t h[8], uint8_t *out, uint64_t *key) {
    for (int k = 0; k < 8; k++) store_be32(out + 4 * k, h[k]);
    if (key) *key = ticket_key(h);
}

/* The last block of prefix + msg after the midstate, if that is the only one (tail + message +
   0x80 + length fit in 64 bytes): 1 and the block in buf; else 0. */
static inline int only_block(const Prefix *p, const uint8_t *msg, size_t len, uint8_t buf[64]) {
    size_t t = p->tail_len, used = t + len;
    if (used + 9 > 64) return 0;
    memcpy(buf, p->tail, t);
    memcpy(buf + t, msg, len);
    buf[used] = 0x80;
    memset(buf + used + 1, 0, 55 - used);
    put_length(buf + 56, (p->prefix_len + len) * 8);
    return 1;
}

/* The digest of prefix + msg into out; the first 9 ticket digits into *key if key. */
static inline void hash_one(const Prefix *p, compress_fn f, const uint8_t *msg, size_t len, uint8_t *out,
                            uint64_t *key) {
    uint32_t h[8];
    uint8_t buf[128];
    size_t t = p->tail_len;
    uint64_t bits = (p->prefix_len + len) * 8;
    memcpy(h, p->mid, sizeof h);
    if (t + len + 9 <= 128) { /* tail + message + 0x80 + length fit in one or two blocks */
        size_t used = t + len, blocks = used + 9 <= 64 ? 1 : 2;
        memcpy(buf, p->tail, t);
        memcpy(buf + t, msg, len);
        buf[used] = 0x80;
        memset(buf + used + 1, 0, 64 * blocks - 8 - used - 1);
        put_length(buf + 64 * blocks - 8, bits);
        f(h, buf, blocks);
    } else { /* a long message: t + len >= 120, so it completes the tail's block */
        size_t head = 64 - t, full;
        memcpy(buf, p->tail, t);
        memcpy(buf + t, msg, head);
        f(h, buf, 1);
        msg += head;
        len -= head;
        full = len / 64;
        if (full) f(h, msg, full);
        msg += 64 * full;
        len -= 64 * full;
        size_t blocks = len + 9 <= 64 ? 1 : 2;
        memcpy(buf, msg, len);
        buf[len] = 0x80;
        memset(buf + len + 1, 0, 64 * blocks - 8 - len - 1);
        put_length(buf + 64 * blocks - 8, bits);
        f(h, buf, blocks);
    }
    finish(h, out, key);
}

enum { FROM_OBJECTS, FROM_PACKED, FROM_COUNTERS };

typedef struct {
    const Prefix *prefix;
    compress_fn f;
    compress2_fn pair; /* or NULL: one message at a time */
    int kind;
    PyObject *const *objects; /* FROM_OBJECTS: compact ASCII str or bytes, held by the caller */
    const uint8_t *data;      /* FROM_PACKED */
    const int64_t *offsets;
    uint64_t first; /* FROM_COUNTERS */
    Py_ssize_t n;
    Py_ssize_t chunk; /* messages a thread takes at once */
    uint8_t *out;     /* 32 bytes a message, or NULL */
    uint64_t *keys;   /* one a message, or NULL */
    Py_ssize_t next;  /* the first message no thread has taken yet */
} Job;

static void hash_range(Job *job, Py_ssize_t lo, Py_ssize_t hi) {
    const Prefix *p = job->prefix;
    compress_fn f = job->f;
    uint8_t *out = job->out;
    uint64_t *keys = job->keys;
    /* one-block messages wait here to be compressed in pairs (if job->pair) */
    uint8_t blocks[2][64], scratch[2][32];
    uint8_t *pending_out[2];
    uint64_t *pending_key[2];
    int pending = 0;
    for (Py_ssize_t i = lo; i < hi; i++) {
        uint8_t digits[20], digest[32];
        const uint8_t *msg;
        size_t len;
        if (job->kind == FROM_OBJECTS) {
            /* Read without the GIL: the objects are immutable and held by the caller's tuple; only
               their type and bytes are read, never a reference count. */
            PyObject *item = job->objects[i];
            if (Py_IS_TYPE(item, &PyBytes_Type)) {
                msg = (const uint8_t *)PyBytes_AS_STRING(item);
                len = (size_t)PyBytes_GET_SIZE(item);
            } else {
                msg = (const uint8_t *)PyUnicode_DATA(item);
                len = (size_t)PyUnicode_GET_LENGTH(item);
            }
        } else if (job->kind == FROM_PACKED) {
            msg = job->data + job->offsets[i];
            len = (size_t)(job->offsets[i + 1] - job->offsets[i]);
        } else {
            uint64_t number = job->first + (uint64_t)i;
            size_t at = sizeof digits;
            do {
                digits[--at] = (uint8_t)('0' + number % 10);
                number /= 10;
            } while (number);
            msg = digits + at;
            len = sizeof digits - at;
        }
        if (job->pair && only_block(p, msg, len, blocks[pending])) {
            pending_out[pending] = out ? out + 32 * i : scratch[pending];
            pending_key[pending] = keys ? keys + i : NULL;
            if (++pending == 2) {
                uint32_t h0[8], h1[8], *states[2] = {h0, h1};
                const uint8_t *both[2] = {blocks[0], blocks[1]};
                memcpy(h0, p->mid, sizeof h0);
                memcpy(h1, p->mid, sizeof h1);
                job->pair(states, both);
                finish(h0, pending_out[0], pending_key[0]);
                finish(h1, pending_out[1], pending_key[1]);
                pending = 0;
            }
        } else {
            hash_one(p, f, msg, len, out ? out + 32 * i : digest, keys ? keys + i : NULL);
        }
    }
    if (pending) { /* an odd one left */
        uint32_t h[8];
        memcpy(h, p->mid, sizeof h);
        f(h, blocks[0], 1);
        finish(h, pending_out[0], pending_key[0]);
    }
}

static void *hash_chunks(void *arg) {
    Job *job = (Job *)arg;
    for (;;) {
#ifdef HAVE_THREADS
        Py_ssize_t lo = __atomic_fetch_add(&job->next, job->chunk, __ATOMIC_RELAXED);
#else
        Py_ssize_t lo = job->next;
        job->next += job->chunk;
#endif
        if (lo >= job->n) return NULL;
        hash_range(job, lo, job->n - lo > job->chunk ? lo + job->chunk : job->n);
    }
}

/* Hashes every message of the job on `threads` threads (fewer if some cannot be started). */
static void run(Job *job, int threads) {
    job->next = 0;
    Py_BEGIN_ALLOW_THREADS
#ifdef HAVE_THREADS
    pthread_t helper[64];
    int started = 0;
    if (threads > 64) threads = 64;
    if ((Py_ssize_t)threads > (job->n + job->chunk - 1) / job->chunk)
        threads = (int)((job->n + job->chunk - 1) / job->chunk);
    for (int k = 1; k < threads; k++) {
        if (pthread_create(&helper[started], NULL, hash_chunks, job) == 0) started++;
    }
    hash_chunks(job);
    for (int k = 0; k < started; k++) pthread_join(helper[k], NULL);
#else
    (void)threads;
    hash_chunks(job);
#endif
    Py_END_ALLOW_THREADS
}

/* Runs the job (prefix, kind, its messages and n set) into new outputs: (digests or None,
   keys or None). */
static PyObject *hash_job(Job *job, const Py_buffer *prefix, int threads, int want_digests, int want_keys) {
    Prefix p;
    PyObject *digests = NULL, *keys = NULL;
    prefix_init(&p, prefix->buf, (size_t)prefix->len, job->f);
    job->prefix = &p;
    if (want_digests) {
        if (!(digests = PyBytes_FromStringAndSize(NULL, 32 * job->n))) return NULL;
        job->out = (uint8_t *)PyBytes_AS_STRING(digests);
    }
    if (want_keys) {
        if (!(keys = PyBytes_FromStringAndSize(NULL, 8 * job->n))) {
            Py_XDECREF(digests);
            return NULL;
        }
        job->keys = (uint64_t *)PyBytes_AS_STRING(keys);
    }
    run(job, threads);
    return Py_BuildValue("(NN)", digests ? digests : Py_NewRef(Py_None), keys ? keys : Py_NewRef(Py_None));
}

/* A tuple of the messages to hash without the GIL: each item of the list or tuple `seq` itself if
   it is a compact ASCII str (its characters are its UTF-8 bytes), else its UTF-8 encoding (a
   bytes object; nothing is cached in the str). Other items are refused. */
static PyObject *hashable_items(PyObject *seq) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq), *held = PyTuple_New(n);
    if (!held) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = items[i];
        if (!PyUnicode_Check(item)) {
            PyErr_Format(PyExc_TypeError, "identifiers must be canonical str, got %.100s at position %zd",
                         Py_TYPE(item)->tp_name, i);
            Py_DECREF(held);
            return NULL;
        }
        if (PyUnicode_IS_COMPACT_ASCII(item)) {
            PyTuple_SET_ITEM(held, i, Py_NewRef(item));
        } else {
            PyObject *bytes = PyUnicode_AsUTF8String(item);
            if (!bytes) {
                Py_DECREF(held);
                return NULL;
            }
            PyTuple_SET_ITEM(held, i, bytes);
        }
    }
    return held;
}

static PyObject *hash_strs(PyObject *self, PyObject *args) {
    Py_buffer prefix;
    PyObject *seq, *items = NULL, *held = NULL, *out = NULL;
    int threads, want_digests, want_keys, impl;
    Job job;
    (void)self;
    memset(&job, 0, sizeof job);
    if (!PyArg_ParseTuple(args, "y*Oinppi", &prefix, &seq, &threads, &job.chunk, &want_digests, &want_keys, &impl))
        return NULL;
    if (choose(impl, job.chunk, &job.f, &job.pair) < 0) goto done;
    if (!PyList_Check(seq) && !PyTuple_Check(seq)) {
        PyErr_SetString(PyExc_TypeError, "messages must be a list or tuple of str");
        goto done;
    }
    if (!(items = PySequence_Fast(seq, "messages must be a list or tuple of str"))) goto done;
    if (!(held = hashable_items(items))) goto done;
    job.kind = FROM_OBJECTS;
    job.objects = &PyTuple_GET_ITEM(held, 0);
    job.n = PyTuple_GET_SIZE(held);
    out = hash_job(&job, &prefix, threads, want_digests, want_keys);
done:
    Py_XDECREF(held);
    Py_XDECREF(items);
    PyBuffer_Release(&prefix);
    return out;
}

static PyObject *hash_packed(PyObject *self, PyObject *args) {
    Py_buffer prefix, data, offsets;
    PyObject *out = NULL;
    int threads, want_digests, want_keys, impl;
    Job job;
    (void)self;
    memset(&job, 0, sizeof job);
    if (!PyArg_ParseTuple(args, "y*y*y*inppi", &prefix, &data, &offsets, &threads, &job.chunk, &want_digests,
                          &want_keys, &impl))
        return NULL;
    if (choose(impl, job.chunk, &job.f, &job.pair) < 0) goto done;
    if (offsets.len % 8 || offsets.len < 8) {
        PyErr_SetString(PyExc_ValueError, "offsets must be at least one int64");
        goto done;
    }
    const int64_t *at = (const int64_t *)offsets.buf;
    Py_ssize_t n = offsets.len / 8 - 1;
    for (Py_ssize_t i = 0; i < n; i++) { /* every message inside the data */
        if (at[i] < 0 || at[i] > at[i + 1]) {
            PyErr_Format(PyExc_ValueError, "offsets must be nonnegative and ascending (at %zd)", i);
            goto done;
        }
    }
    if (at[n] < 0 || at[n] > data.len) {
        PyErr_SetString(PyExc_ValueError, "offsets point beyond the data");
        goto done;
    }
    job.kind = FROM_PACKED;
    job.data = data.buf;
    job.offsets = at;
    job.n = n;
    out = hash_job(&job, &prefix, threads, want_digests, want_keys);
done:
    PyBuffer_Release(&prefix);
    PyBuffer_Release(&data);
    PyBuffer_Release(&offsets);
    return out;
}

static PyObject *hash_counters(PyObject *self, PyObject *args) {
    Py_buffer prefix;
    PyObject *out = NULL, *digests = NULL;
    unsigned long long first;
    Py_ssize_t n;
    int threads, impl;
    Job job;
    (void)self;
    memset(&job, 0, sizeof job);
    if (!PyArg_ParseTuple(args, "y*Knini", &prefix, &first, &n, &threads, &job.chunk, &impl)) return NULL;
    if (n < 0 || (n > 0 && first + (unsigned long long)(n - 1) < first)) {
        PyErr_SetString(PyExc_ValueError, "counters outside 0..2**64 - 1");
    } else if (choose(impl, job.chunk, &job.f, &job.pair) == 0) {
        job.kind = FROM_COUNTERS;
        job.first = first;
        job.n = n;
        if ((out = hash_job(&job, &prefix, threads, 1, 0)) != NULL) {
            digests = Py_NewRef(PyTuple_GET_ITEM(out, 0));
            Py_DECREF(out);
        }
    }
    PyBuffer_Release(&prefix);
    return digests;
}

/* "0." + the decimal digits of the digest x from the units up, at least 64 of them: the
   package's "0." + format(x, "064d")[::-1]. x is divided by 10**9 as eight 32-bit limbs, nine
   digits per division (each remainder * 2**32 + limb < 2**62); the nine are written two at a
   time. Returns the length written. */
static Py_ssize_t ticket_text(const uint8_t *digest, char *text) {
    uint32_t limbs[8];
    int top = 0, written = 0, last;
    char *digits = text + 2;
    for (int k = 0; k < 8; k++) limbs[k] = load_be32(digest + 4 * k);
    text[0] = '0';
    text[1] = '.';
    while (top < 8) {
        uint64_t r = 0;
        for (int k = top; k < 8; k++) {
            uint64_t cur = (r << 32) | limbs[k];
            limbs[k] = (uint32_t)(cur / 1000000000u);
            r = cur % 1000000000u;
        }
        while (top < 8 && limbs[top] == 0) top++;
        uint32_t low = (uint32_t)(r % 10000), high = (uint32_t)(r / 10000);
        memcpy(digits + written, pair_digits + 2 * (low % 100), 2);
        memcpy(digits + written + 2, pair_digits + 2 * (low / 100), 2);
        memcpy(digits + written + 4, pair_digits + 2 * (high % 100), 2);
        memcpy(digits + written + 6, pair_digits + 2 * (high / 100 % 100), 2);
        digits[written + 8] = (char)('0' + high / 10000);
        written += 9;
    }
    /* drop the zeros above the top digit; keep 64 digits at least (the left padding, reversed) */
    for (last = written; last > 0 && digits[last - 1] == '0'; last--) {
    }
    while (written < 64) digits[written++] = '0';
    return 2 + (last > 64 ? last : 64);
}

static PyObject *tickets_of(PyObject *self, PyObject *args) {
    Py_buffer block;
    PyObject *indexes, *seq = NULL, *out = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*O", &block, &indexes)) return NULL;
    if (block.len % 32) {
        PyErr_SetString(PyExc_ValueError, "the block must hold whole 32-byte digests");
        goto done;
    }
    seq = PySequence_Fast(indexes, "indexes must be a sequence of int");
    if (!seq) goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq), count = block.len / 32;
    out = PyList_New(n);
    if (!out) goto done;
    for (Py_ssize_t k = 0; k < n; k++) {
        char text[2 + 81];
        Py_ssize_t i = PyNumber_AsSsize_t(PySequence_Fast_GET_ITEM(seq, k), PyExc_IndexError);
        if (i == -1 && PyErr_Occurred()) goto fail;
        if (i < 0 || i >= count) {
            PyErr_Format(PyExc_IndexError, "digest index %zd outside 0..%zd", i, count - 1);
            goto fail;
        }
        Py_ssize_t len = ticket_text((const uint8_t *)block.buf + 32 * i, text);
        PyObject *s = PyUnicode_New(len, 127);
        if (!s) goto fail;
        memcpy(PyUnicode_1BYTE_DATA(s), text, (size_t)len);
        PyList_SET_ITEM(out, k, s);
    }
    goto done;
fail:
    Py_CLEAR(out);
done:
    Py_XDECREF(seq);
    PyBuffer_Release(&block);
    return out;
}

/* sort_keys(keys) -> (order, sorted, ties): the positions of the keys (native uint64s, each
   below 2**30, as a draw's 9-digit ticket keys are) in ascending key order, equal keys in position
   order (int64s), the keys in that order (uint64s), and the list of the j where sorted[j] ==
   sorted[j + 1] (duplicate identifiers, or ticket prefixes that tie: rare). An LSD radix sort, ten bits a pass, in the two
   output buffers only (key << 32 | position while sorting): several times faster than numpy's
   argsort, with no more memory. */
static PyObject *sort_keys(PyObject *self, PyObject *args) {
    Py_buffer keys;
    PyObject *order = NULL, *sorted = NULL, *ties = NULL, *out = NULL;
    Py_ssize_t n = 0, bad = -1;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*", &keys)) return NULL;
    if (keys.len % 8) {
        PyErr_SetString(PyExc_ValueError, "keys must be uint64s");
        goto done;
    }
    n = keys.len / 8;
    if ((uint64_t)n > 0xFFFFFFFFu) {
        PyErr_SetString(PyExc_ValueError, "at most 2**32 - 1 keys");
        goto done;
    }
    if (!(order = PyBytes_FromStringAndSize(NULL, 8 * n)) || !(sorted = PyBytes_FromStringAndSize(NULL, 8 * n)))
        goto done;
    {
        const uint64_t *k = (const uint64_t *)keys.buf;
        uint64_t *p = (uint64_t *)PyBytes_AS_STRING(order), *q = (uint64_t *)PyBytes_AS_STRING(sorted);
        Py_ssize_t count[3][1024];
        memset(count, 0, sizeof count);
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            uint64_t v = k[i];
            if (v >> 30) {
                bad = i;
                break;
            }
            count[0][v & 1023]++;
            count[1][(v >> 10) & 1023]++;
            count[2][v >> 20]++;
        }
        if (bad < 0) {
            for (int d = 0; d < 3; d++) { /* counts to starting positions */
                Py_ssize_t at = 0;
                for (int b = 0; b < 1024; b++) {
                    Py_ssize_t c = count[d][b];
                    count[d][b] = at;
                    at += c;
                }
            }
            for (Py_ssize_t i = 0; i < n; i++) p[count[0][k[i] & 1023]++] = k[i] << 32 | (uint64_t)i;
            for (Py_ssize_t j = 0; j < n; j++) q[count[1][(p[j] >> 42) & 1023]++] = p[j];
            for (Py_ssize_t j = 0; j < n; j++) p[count[2][q[j] >> 52]++] = q[j];
            for (Py_ssize_t j = 0; j < n; j++) {
                q[j] = p[j] >> 32;
                p[j] &= 0xFFFFFFFFu;
            }
        }
        Py_END_ALLOW_THREADS
    }
    if (bad >= 0) {
        PyErr_Format(PyExc_ValueError, "key %zd is not below 2**30", bad);
        goto done;
    }
    if (!(ties = PyList_New(0))) goto done;
    {
        const uint64_t *q = (const uint64_t *)PyBytes_AS_STRING(sorted);
        for (Py_ssize_t j = 0; j + 1 < n; j++) {
            if (q[j] == q[j + 1]) {
                PyObject *at = PyLong_FromSsize_t(j);
                if (!at || PyList_Append(ties, at) < 0) {
                    Py_XDECREF(at);
                    goto done;
                }
                Py_DECREF(at);
            }
        }
    }
    out = PyTuple_Pack(3, order, sorted, ties);
done:
    Py_XDECREF(order);
    Py_XDECREF(sorted);
    Py_XDECREF(ties);
    PyBuffer_Release(&keys);
    return out;
}

/* ---- Frames (inspect_kit.draw.core.frame) -------------------------------------------------------

   frame_chunk(rows, last)  FrameBuilder.add's work on a chunk of (identifier, stratum) rows
   frame_split(data, last)  frame_members' work on a chunk of a stored frame's lines

   Both accept only what is plainly canonical (the module docstring of frame.py) and return None
   for anything else, exactly where the Python paths they replace do; the caller then takes the
   slow path, which names every problem. `last` is the identifier before the chunk (a str) or None.
   Identifiers are compared as UTF-8 bytes, whose order is code point order (no surrogate gets that
   far: frame_chunk refuses them, UTF-8 cannot hold them). */

typedef struct {
    uint8_t *p;
    size_t len, cap;
} Buf;

/* Room for `more` bytes at b->p + b->len; -1 with MemoryError set if there is none. */
static int buf_reserve(Buf *b, size_t more) {
    if (b->cap - b->len >= more) return 0;
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap - b->len < more) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

/* The characters FrameBuilder refuses (frame._REFUSED): controls U+0000-001F and U+007F-009F,
   U+2028, U+2029 and lone surrogates. */
static inline int refused_char(Py_UCS4 c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 || (c >= 0xd800 && c <= 0xdfff);
}

/* The UTF-8 of the str s appended to b: 1 if it holds a refused character (nothing meaningful
   appended), -1 on MemoryError, else 0. */
static int put_utf8(Buf *b, PyObject *s) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    const void *d = PyUnicode_DATA(s);
    if (PyUnicode_IS_ASCII(s)) {
        const uint8_t *a = (const uint8_t *)d;
        int bad = 0;
        if (buf_reserve(b, (size_t)n) < 0) return -1;
        for (Py_ssize_t i = 0; i < n; i++) bad |= (a[i] < 0x20) | (a[i] == 0x7f);
        if (bad) return 1;
        memcpy(b->p + b->len, a, (size_t)n);
        b->len += (size_t)n;
        return 0;
    }
    int kind = PyUnicode_KIND(s);
    if (buf_reserve(b, (size_t)n * (kind == PyUnicode_1BYTE_KIND ? 2 : kind == PyUnicode_2BYTE_KIND ? 3 : 4)) < 0)
        return -1;
    uint8_t *o = b->p + b->len;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, d, i);
        if (refused_char(c)) return 1;
        if (c < 0x80) {
            *o++ = (uint8_t)c;
        } else if (c < 0x800) {
            *o++ = (uint8_t)(0xc0 | c >> 6);
            *o++ = (uint8_t)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            *o++ = (uint8_t)(0xe0 | c >> 12);
            *o++ = (uint8_t)(0x80 | (c >> 6 & 0x3f));
            *o++ = (uint8_t)(0x80 | (c & 0x3f));
        } else {
            *o++ = (uint8_t)(0xf0 | c >> 18);
            *o++ = (uint8_t)(0x80 | (c >> 12 & 0x3f));
            *o++ = (uint8_t)(0x80 | (c >> 6 & 0x3f));
            *o++ = (uint8_t)(0x80 | (c & 0x3f));
        }
    }
    b->len = (size_t)(o - b->p);
    return 0;
}

/* Whether the byte strings a < b: memcmp order, a proper prefix first (UTF-8: code point order). */
static inline int bytes_less(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
    int c = memcmp(a, b, na < nb ? na : nb);
    return c < 0 || (c == 0 && na < nb);
}

/* Two compact str of exact type are equal iff kind, length and data are (the kind is the narrowest). */
static inline int same_str(PyObject *a, PyObject *b) {
    if (a == b) return 1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    int kind = PyUnicode_KIND(a);
    return n == PyUnicode_GET_LENGTH(b) && kind == PyUnicode_KIND(b) &&
           memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n * (size_t)kind) == 0;
}

#define FEW_LABELS 16 /* up to this many strata are found by a linear scan, more through a dict */

/* frame_chunk(rows, last) -> (canonical bytes, {stratum: rows}) | None | False

   rows: a list or tuple of rows, each an exact tuple or list of two exact str. The bytes are
   "identifier TAB stratum LF" for each row, UTF-8; the counts are in order of first appearance
   (as Counter.update(strata) inserts them). None when a value is empty, not an exact str, or holds
   a refused character, or when the identifiers are not strictly increasing from `last`. False when
   `rows` or a row is of another type (the caller decides by its Python path: only the types a
   database driver returns are taken here). Holds the GIL: it reads the str objects in place (a
   few nanoseconds a row; the zlib thread the caller runs releases the GIL itself). */
static PyObject *frame_chunk(PyObject *self, PyObject *args) {
    PyObject *rows, *last, *out = NULL, *counts = NULL, *index = NULL;
    PyObject **labels = NULL; /* strong references, in order of first appearance */
    Py_ssize_t *tally = NULL, n_labels = 0, cap_labels = 0, hit = -1;
    size_t prev_at = 0, prev_len = 0;
    Buf b = {NULL, 0, 0};
    int refused = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "OO", &rows, &last)) return NULL;
    if (last != Py_None && !PyUnicode_CheckExact(last)) {
        PyErr_SetString(PyExc_TypeError, "last must be a str or None");
        return NULL;
    }
    if (!PyList_CheckExact(rows) && !PyTuple_CheckExact(rows)) Py_RETURN_FALSE;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(rows);
    PyObject **items = PySequence_Fast_ITEMS(rows);
    for (Py_ssize_t i = 0; i < n; i++) { /* first the types (a False answer must not depend on values) */
        PyObject *r = items[i];
        if (!PyTuple_CheckExact(r) && !PyList_CheckExact(r)) Py_RETURN_FALSE;
    }
    for (Py_ssize_t i = 0; i < n && !refused; i++) {
        PyObject *r = items[i];
        if (PySequence_Fast_GET_SIZE(r) != 2) {
            refused = 1;
            break;
        }
        PyObject *id = PySequence_Fast_GET_ITEM(r, 0), *stratum = PySequence_Fast_GET_ITEM(r, 1);
        if (!PyUnicode_CheckExact(id) || !PyUnicode_CheckExact(stratum) || PyUnicode_GET_LENGTH(id) == 0 ||
            PyUnicode_GET_LENGTH(stratum) == 0) {
            refused = 1;
            break;
        }
        size_t at = b.len;
        int put = put_utf8(&b, id);
        if (put < 0) goto done;
        if (put > 0) {
            refused = 1;
            break;
        }
        size_t len = b.len - at;
        if (i == 0) {
            if (last != Py_None) refused = PyUnicode_Compare(last, id) >= 0; /* exact str: no error */
        } else if (!bytes_less(b.p + prev_at, prev_len, b.p + at, len)) {
            refused = 1;
        }
        prev_at = at;
        prev_len = len;
        if (buf_reserve(&b, 1) < 0) goto done;
        b.p[b.len++] = '\t';
        put = put_utf8(&b, stratum);
        if (put < 0) goto done;
        refused |= put;
        if (buf_reserve(&b, 1) < 0) goto done;
        b.p[b.len++] = '\n';
        /* count the stratum: the previous row's first, then the few known, then the dict */
        if (hit >= 0 && same_str(labels[hit], stratum)) {
            tally[hit]++;
            continue;
        }
        hit = -1;
        if (index == NULL) {
            for (Py_ssize_t k = 0; k < n_labels; k++) {
                if (same_str(labels[k], stratum)) {
                    hit = k;
                    break;
                }
            }
        } else {
            PyObject *k = PyDict_GetItemWithError(index, stratum);
            if (k == NULL && PyErr_Occurred()) goto done;
            if (k != NULL) hit = PyLong_AsSsize_t(k);
        }
        if (hit < 0) { /* a new stratum */
            if (n_labels == cap_labels) {
                Py_ssize_t cap = cap_labels ? 2 * cap_labels : FEW_LABELS;
                PyObject **l = PyMem_Realloc(labels, (size_t)cap * sizeof *l);
                if (l) labels = l;
                Py_ssize_t *t = l ? PyMem_Realloc(tally, (size_t)cap * sizeof *t) : NULL;
                if (!l || !t) {
                    PyErr_NoMemory();
                    goto done;
                }
                tally = t;
                cap_labels = cap;
            }
            hit = n_labels++;
            labels[hit] = Py_NewRef(stratum);
            tally[hit] = 0;
            if (n_labels > FEW_LABELS) {
                if (index == NULL && !(index = PyDict_New())) goto done;
                for (Py_ssize_t k = PyDict_GET_SIZE(index); k < n_labels; k++) {
                    PyObject *v = PyLong_FromSsize_t(k);
                    if (!v || PyDict_SetItem(index, labels[k], v) < 0) {
                        Py_XDECREF(v);
                        goto done;
                    }
                    Py_DECREF(v);
                }
            }
        }
        tally[hit]++;
    }
    if (refused) {
        out = Py_NewRef(Py_None);
        goto done;
    }
    if (!(counts = PyDict_New())) goto done;
    for (Py_ssize_t k = 0; k < n_labels; k++) {
        PyObject *v = PyLong_FromSsize_t(tally[k]);
        if (!v || PyDict_SetItem(counts, labels[k], v) < 0) {
            Py_XDECREF(v);
            goto done;
        }
        Py_DECREF(v);
    }
    {
        PyObject *data = PyBytes_FromStringAndSize((const char *)b.p, (Py_ssize_t)b.len);
        if (data) out = Py_BuildValue("(NO)", data, counts);
    }
done:
    for (Py_ssize_t k = 0; k < n_labels; k++) Py_DECREF(labels[k]);
    PyMem_Free(labels);
    PyMem_Free(tally);
    Py_XDECREF(counts);
    Py_XDECREF(index);
    free(b.p);
    return out;
}

/* The length of the well-formed UTF-8 sequence at p (p[0] >= 0x80, `left` bytes from p on), or 0
   where Python's strict decoder refuses it: a stray continuation byte, a truncated sequence, an
   overlong form, a surrogate, anything above U+10FFFF. */
static inline size_t utf8_sequence(const uint8_t *p, size_t left) {
    uint8_t c = p[0];
    if (c >= 0xc2 && c <= 0xdf) return left >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (left < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80) return 0;
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)) return 0; /* overlong, surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (left < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80) return 0;
        if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)) return 0; /* overlong, > U+10FFFF */
        return 4;
    }
    return 0;
}

typedef struct {
    Py_ssize_t id, id_len, group; /* the identifier's place in the data; its stratum's group */
} SplitLine;

typedef struct {
    const uint8_t *label;
    Py_ssize_t label_len, count, bytes; /* identifiers, and their bytes */
    Py_ssize_t rank;                    /* the place of the label in label order */
} Group;

typedef struct {
    const uint8_t *d;
    Py_ssize_t n;
    SplitLine *lines;
    Py_ssize_t n_lines, cap_lines;
    Group *groups;
    Py_ssize_t n_groups, cap_groups;
    Py_ssize_t *table; /* open addressing: group + 1, or 0 */
    size_t mask;
} Split;

/* The array *p of *cap items of `size` bytes doubled (or made `first` long); -1 if memory ran out. */
static int grow(void **p, Py_ssize_t *cap, Py_ssize_t first, size_t size) {
    Py_ssize_t more = *cap ? 2 * *cap : first;
    void *q = realloc(*p, (size_t)more * size);
    if (!q) return -1;
    *p = q;
    *cap = more;
    return 0;
}

static inline uint64_t fnv1a(const uint8_t *p, Py_ssize_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* The group of the stratum label (found or added); -1 if memory ran out. */
static Py_ssize_t split_group(Split *s, const uint8_t *label, Py_ssize_t len) {
    if ((size_t)(2 * (s->n_groups + 1)) > s->mask + 1) { /* grow the table and re-place every group */
        size_t size = 2 * (s->mask + 1);
        Py_ssize_t *table = calloc(size, sizeof *table);
        if (!table) return -1;
        for (Py_ssize_t g = 0; g < s->n_groups; g++) {
            size_t at = fnv1a(s->groups[g].label, s->groups[g].label_len) & (size - 1);
            while (table[at]) at = (at + 1) & (size - 1);
            table[at] = g + 1;
        }
        free(s->table);
        s->table = table;
        s->mask = size - 1;
    }
    size_t at = fnv1a(label, len) & s->mask;
    for (; s->table[at]; at = (at + 1) & s->mask) {
        const Group *g = &s->groups[s->table[at] - 1];
        if (g->label_len == len && memcmp(g->label, label, (size_t)len) == 0) return s->table[at] - 1;
    }
    if (s->n_groups == s->cap_groups && grow((void **)&s->groups, &s->cap_groups, 16, sizeof *s->groups) < 0) return -1;
    Group *g = &s->groups[s->n_groups];
    g->label = label;
    g->label_len = len;
    g->count = g->bytes = 0;
    s->table[at] = s->n_groups + 1;
    return s->n_groups++;
}

/* Reads the lines of s->d without the GIL: 0 if every line is "identifier TAB stratum LF", both
   non-empty, the whole valid UTF-8 free of frame._REFUSED_IN_TEXT characters, the identifiers
   strictly increasing (from the second line on: the first is compared with `last` by the caller);
   1 if not; -1 if memory ran out. */
static int split_scan(Split *s) {
    const uint8_t *d = s->d, *label = NULL;
    Py_ssize_t n = s->n, i = 0, start = 0, tab = -1, label_len = 0, group = -1;
    while (i < n) {
        uint8_t c = d[i];
        if (c >= 0x20 && c < 0x7f) {
            i++;
        } else if (c >= 0x80) {
            size_t k = utf8_sequence(d + i, (size_t)(n - i));
            if (!k) return 1;
            if (c == 0xc2 && d[i + 1] < 0xa0) return 1; /* U+0080-009F */
            if (c == 0xe2 && d[i + 1] == 0x80 && (d[i + 2] == 0xa8 || d[i + 2] == 0xa9)) return 1; /* U+2028-2029 */
            i += (Py_ssize_t)k;
        } else if (c == '\t') {
            if (tab >= 0 || i == start) return 1; /* a second tab, an empty identifier */
            tab = i++;
        } else if (c == '\n') {
            if (tab < 0 || i == tab + 1) return 1; /* no tab, an empty stratum */
            Py_ssize_t id_len = tab - start, len = i - tab - 1;
            if (s->n_lines) {
                const SplitLine *prev = &s->lines[s->n_lines - 1];
                if (!bytes_less(d + prev->id, (size_t)prev->id_len, d + start, (size_t)id_len)) return 1;
            }
            if (group < 0 || len != label_len || memcmp(label, d + tab + 1, (size_t)len) != 0) {
                label = d + tab + 1;
                label_len = len;
                if ((group = split_group(s, label, len)) < 0) return -1;
            }
            if (s->n_lines == s->cap_lines && grow((void **)&s->lines, &s->cap_lines, 4096, sizeof *s->lines) < 0)
                return -1;
            s->lines[s->n_lines++] = (SplitLine){start, id_len, group};
            s->groups[group].count++;
            s->groups[group].bytes += id_len;
            start = ++i;
            tab = -1;
        } else {
            return 1; /* a control character */
        }
    }
    return start == n && s->n_lines ? 0 : 1; /* the last line ends in LF; no lines is not a frame */
}

static int group_order(const void *a, const void *b) {
    const Group *x = *(const Group *const *)a, *y = *(const Group *const *)b;
    return bytes_less(x->label, (size_t)x->label_len, y->label, (size_t)y->label_len) ? -1 : 1;
}

/* frame_split(data, last) -> (last identifier, lines, [(stratum, identifiers, lengths)]) | None

   data: whole lines of a stored frame (frame.frame_chunks). None unless every line is "identifier
   TAB stratum LF", both non-empty, the data valid UTF-8 free of frame._REFUSED_IN_TEXT characters,
   and the identifiers strictly increasing from `last` (frame._split_chunk's rules). Else the last
   identifier (a str), the number of lines, and for each stratum in label order (code point order;
   labels are distinct) its identifiers' UTF-8 concatenated in line order and their byte lengths
   (native int64s). The GIL is released while the data is read and while the identifiers are
   copied out. */
static PyObject *frame_split(PyObject *self, PyObject *args) {
    Py_buffer data;
    PyObject *last, *out = NULL, *groups = NULL;
    Split s;
    Group **sorted = NULL;
    char **ids_at = NULL;
    int64_t **lens_at = NULL;
    int scanned;
    (void)self;
    memset(&s, 0, sizeof s);
    if (!PyArg_ParseTuple(args, "y*O", &data, &last)) return NULL;
    if (last != Py_None && !PyUnicode_CheckExact(last)) {
        PyErr_SetString(PyExc_TypeError, "last must be a str or None");
        goto done;
    }
    s.d = data.buf;
    s.n = data.len;
    s.mask = 15;
    if (!(s.table = calloc(s.mask + 1, sizeof *s.table))) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    scanned = split_scan(&s);
    Py_END_ALLOW_THREADS
    if (scanned < 0) {
        PyErr_NoMemory();
        goto done;
    }
    if (scanned == 0 && last != Py_None) { /* the first identifier after `last`, compared as str */
        PyObject *first = PyUnicode_DecodeUTF8((const char *)s.d + s.lines[0].id, s.lines[0].id_len, NULL);
        if (!first) goto done;
        scanned = PyUnicode_Compare(last, first) >= 0;
        Py_DECREF(first);
    }
    if (scanned) {
        out = Py_NewRef(Py_None);
        goto done;
    }
    if (!(sorted = malloc((size_t)s.n_groups * sizeof *sorted)) ||
        !(ids_at = malloc((size_t)s.n_groups * sizeof *ids_at)) ||
        !(lens_at = malloc((size_t)s.n_groups * sizeof *lens_at))) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t g = 0; g < s.n_groups; g++) sorted[g] = &s.groups[g];
    qsort(sorted, (size_t)s.n_groups, sizeof *sorted, group_order);
    if (!(groups = PyList_New(s.n_groups))) goto done;
    for (Py_ssize_t r = 0; r < s.n_groups; r++) {
        Group *g = sorted[r];
        PyObject *label = PyUnicode_DecodeUTF8((const char *)g->label, g->label_len, NULL);
        PyObject *ids = PyBytes_FromStringAndSize(NULL, g->bytes);
        PyObject *lens = PyBytes_FromStringAndSize(NULL, 8 * g->count);
        if (!label || !ids || !lens) {
            Py_XDECREF(label);
            Py_XDECREF(ids);
            Py_XDECREF(lens);
            goto done;
        }
        g->rank = r;
        ids_at[r] = PyBytes_AS_STRING(ids);
        lens_at[r] = (int64_t *)PyBytes_AS_STRING(lens);
        PyList_SET_ITEM(groups, r, Py_BuildValue("(NNN)", label, ids, lens));
        if (!PyList_GET_ITEM(groups, r)) goto done;
    }
    Py_BEGIN_ALLOW_THREADS /* the new bytes objects are ours alone */
    for (Py_ssize_t k = 0; k < s.n_lines; k++) {
        const SplitLine *line = &s.lines[k];
        Py_ssize_t r = s.groups[line->group].rank;
        memcpy(ids_at[r], s.d + line->id, (size_t)line->id_len);
        ids_at[r] += line->id_len;
        *lens_at[r]++ = line->id_len;
    }
    Py_END_ALLOW_THREADS
    {
        const SplitLine *end = &s.lines[s.n_lines - 1];
        PyObject *last_id = PyUnicode_DecodeUTF8((const char *)s.d + end->id, end->id_len, NULL);
        if (last_id) out = Py_BuildValue("(NnO)", last_id, s.n_lines, groups);
    }
done:
    Py_XDECREF(groups);
    free(sorted);
    free(ids_at);
    free(lens_at);
    free(s.lines);
    free(s.groups);
    free(s.table);
    PyBuffer_Release(&data);
    return out;
}

/* ---- json_lines: the log's lines of child rows (transparency.store._template_columns) ----------

   json_lines(prefixes, columns, suffix) -> bytes or None
   Row i is prefixes[0] + v(columns[0][i]) + prefixes[1] + v(columns[1][i]) + ... + suffix, where
   v(int) is its decimal repr and v(str) the UTF-8 of json.encoder.encode_basestring(s) (what
   json.dumps(ensure_ascii=False) writes: quotes, `"` and `\` escaped, \b \f \n \r \t, the other
   controls below U+0020 as \u00xx; everything else as it is). None, and nothing else happens,
   when a value is neither an exact int within 64 bits nor an exact str with a UTF-8 form (a lone
   surrogate has none): the caller then renders the rows in Python. Columns of unequal lengths or
   a prefix that is not bytes are a ValueError/TypeError. */

static const char HEX[] = "0123456789abcdef";

/* v(s) appended to b: 0, 1 (no UTF-8 form: the error is cleared) or -1 (MemoryError). */
static int put_json_str(Buf *b, PyObject *s) {
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (!u) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError)) return -1;
        PyErr_Clear();
        return 1;
    }
    const uint8_t *a = (const uint8_t *)u;
    int plain = 1;
    for (Py_ssize_t i = 0; i < n; i++) plain &= (a[i] >= 0x20) & (a[i] != '"') & (a[i] != '\\');
    if (plain) { /* the usual value: nothing to escape */
        if (buf_reserve(b, (size_t)n + 2) < 0) return -1;
        b->p[b->len] = '"';
        memcpy(b->p + b->len + 1, a, (size_t)n);
        b->p[b->len + 1 + (size_t)n] = '"';
        b->len += (size_t)n + 2;
        return 0;
    }
    if (buf_reserve(b, (size_t)n * 6 + 2) < 0) return -1; /* at worst every byte is \u00xx */
    uint8_t *o = b->p + b->len;
    *o++ = '"';
    for (Py_ssize_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)u[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            default:
                *o++ = 'u';
                *o++ = '0';
                *o++ = '0';
                *o++ = (uint8_t)HEX[c >> 4];
                *o++ = (uint8_t)HEX[c & 15];
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
    return 0;
}

/* v(x) for an exact int appended to b: 0, 1 (beyond 64 bits) or -1. */
static int put_json_int(Buf *b, PyObject *x) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(x, &overflow);
    if (overflow) return 1;
    if (v == -1 && PyErr_Occurred()) return -1;
    char tmp[24];
    int k = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (buf_reserve(b, (size_t)k + 1) < 0) return -1;
    if (v < 0) b->p[b->len++] = '-';
    while (k) b->p[b->len++] = (uint8_t)tmp[--k];
    return 0;
}

static PyObject *json_lines(PyObject *self, PyObject *args) {
    PyObject *prefixes, *columns, *suffix_obj;
    if (!PyArg_ParseTuple(args, "OOS", &prefixes, &columns, &suffix_obj)) return NULL;
    PyObject *pf = PySequence_Fast(prefixes, "prefixes must be a sequence");
    if (!pf) return NULL;
    PyObject *cf = PySequence_Fast(columns, "columns must be a sequence");
    if (!cf) {
        Py_DECREF(pf);
        return NULL;
    }
    PyObject *result = NULL, **cols = NULL;
    Buf b = {NULL, 0, 0};
    Py_ssize_t m = PySequence_Fast_GET_SIZE(pf), n = 0;
    if (m != PySequence_Fast_GET_SIZE(cf) || m == 0) {
        PyErr_SetString(PyExc_ValueError, "one prefix a column, at least one column");
        goto done;
    }
    cols = PyMem_Calloc((size_t)m, sizeof(PyObject *));
    if (!cols) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t j = 0; j < m; j++) {
        if (!PyBytes_Check(PySequence_Fast_GET_ITEM(pf, j))) {
            PyErr_SetString(PyExc_TypeError, "prefixes must be bytes");
            goto done;
        }
        cols[j] = PySequence_Fast(PySequence_Fast_GET_ITEM(cf, j), "a column must be a sequence");
        if (!cols[j]) goto done;
        Py_ssize_t len = PySequence_Fast_GET_SIZE(cols[j]);
        if (j == 0) n = len;
        if (len != n) {
            PyErr_SetString(PyExc_ValueError, "columns of unequal lengths");
            goto done;
        }
    }
    const char *suffix = PyBytes_AS_STRING(suffix_obj);
    size_t suffix_len = (size_t)PyBytes_GET_SIZE(suffix_obj);
    for (Py_ssize_t i = 0; i < n; i++) {
        for (Py_ssize_t j = 0; j < m; j++) {
            PyObject *pre = PySequence_Fast_GET_ITEM(pf, j);
            size_t plen = (size_t)PyBytes_GET_SIZE(pre);
            if (buf_reserve(&b, plen) < 0) goto done;
            memcpy(b.p + b.len, PyBytes_AS_STRING(pre), plen);
            b.len += plen;
            PyObject *x = PySequence_Fast_GET_ITEM(cols[j], i);
            int r = PyUnicode_CheckExact(x) ? put_json_str(&b, x) : PyLong_CheckExact(x) ? put_json_int(&b, x) : 1;
            if (r < 0) goto done;
            if (r > 0) {
                result = Py_NewRef(Py_None);
                goto done;
            }
        }
        if (buf_reserve(&b, suffix_len) < 0) goto done;
        memcpy(b.p + b.len, suffix, suffix_len);
        b.len += suffix_len;
    }
    result = PyBytes_FromStringAndSize((const char *)b.p, (Py_ssize_t)b.len);
done:
    if (cols) {
        for (Py_ssize_t j = 0; j < m; j++) Py_XDECREF(cols[j]);
        PyMem_Free(cols);
    }
    free(b.p);
    Py_DECREF(pf);
    Py_DECREF(cf);
    return result;
}

/* offsets_of(parts) -> bytes: 0, then the running sums of the native int64 lengths in the buffers
   `parts` (a sequence), as native int64s: the n + 1 offsets of identifiers packed one after another
   (frame_split's lengths of each chunk of a stratum -> hashing.PackedIds.offsets). A negative
   length, or a buffer whose size is not a multiple of 8, is a ValueError. */
static PyObject *offsets_of(PyObject *self, PyObject *args) {
    PyObject *arg;
    if (!PyArg_ParseTuple(args, "O", &arg)) return NULL;
    PyObject *parts = PySequence_Fast(arg, "parts must be a sequence");
    if (!parts) return NULL;
    Py_ssize_t k = PySequence_Fast_GET_SIZE(parts), n = 0;
    Py_buffer *views = PyMem_Calloc((size_t)(k ? k : 1), sizeof(Py_buffer));
    if (!views) {
        Py_DECREF(parts);
        return PyErr_NoMemory();
    }
    Py_ssize_t got = 0;
    PyObject *out = NULL;
    for (; got < k; got++) {
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(parts, got), &views[got], PyBUF_SIMPLE) < 0) goto done;
        if (views[got].len % 8) {
            got++;
            PyErr_SetString(PyExc_ValueError, "lengths must be int64s");
            goto done;
        }
        n += views[got].len / 8;
    }
    out = PyBytes_FromStringAndSize(NULL, (n + 1) * 8);
    if (!out) goto done;
    int64_t *o = (int64_t *)PyBytes_AS_STRING(out), total = 0;
    *o++ = 0;
    for (Py_ssize_t j = 0; j < k; j++) {
        Py_ssize_t m = views[j].len / 8;
        const char *b = views[j].buf;
        for (Py_ssize_t i = 0; i < m; i++) {
            int64_t len;
            memcpy(&len, b + 8 * i, 8);
            if (len < 0 || total > INT64_MAX - len) {
                Py_CLEAR(out);
                PyErr_SetString(PyExc_ValueError, "a negative length, or offsets beyond 64 bits");
                goto done;
            }
            total += len;
            *o++ = total;
        }
    }
done:
    for (Py_ssize_t j = 0; j < got; j++) PyBuffer_Release(&views[j]);
    PyMem_Free(views);
    Py_DECREF(parts);
    return out;
}

/* packed_take(data, offsets, indices) -> list of str: data[offsets[i]:offsets[i + 1]] decoded as
   UTF-8 for each i in the sequence `indices` (hashing.PackedIds.take). `offsets`: n + 1 native
   int64s. An index outside 0..n-1 is an IndexError; offsets outside the data or descending a
   ValueError; bytes that are not UTF-8 the UnicodeDecodeError that decode() gives. */
static PyObject *packed_take(PyObject *self, PyObject *args) {
    Py_buffer data, offs;
    PyObject *indices, *seq = NULL, *out = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*O", &data, &offs, &indices)) return NULL;
    if (offs.len % 8 || offs.len < 8) {
        PyErr_SetString(PyExc_ValueError, "offsets must be n + 1 int64s");
        goto done;
    }
    seq = PySequence_Fast(indices, "indices must be a sequence");
    if (!seq) goto done;
    Py_ssize_t n = offs.len / 8 - 1, k = PySequence_Fast_GET_SIZE(seq);
    const char *o = offs.buf;
    out = PyList_New(k);
    if (!out) goto done;
    for (Py_ssize_t j = 0; j < k; j++) {
        Py_ssize_t i = PyNumber_AsSsize_t(PySequence_Fast_GET_ITEM(seq, j), PyExc_IndexError);
        if (i == -1 && PyErr_Occurred()) goto fail;
        if (i < 0 || i >= n) {
            PyErr_SetString(PyExc_IndexError, "identifier index out of range");
            goto fail;
        }
        int64_t a, b;
        memcpy(&a, o + 8 * i, 8);
        memcpy(&b, o + 8 * (i + 1), 8);
        if (a < 0 || b < a || b > data.len) {
            PyErr_SetString(PyExc_ValueError, "offsets outside the data");
            goto fail;
        }
        PyObject *str = PyUnicode_DecodeUTF8((const char *)data.buf + a, (Py_ssize_t)(b - a), NULL);
        if (!str) goto fail;
        PyList_SET_ITEM(out, j, str);
    }
    goto done;
fail:
    Py_CLEAR(out);
done:
    Py_XDECREF(seq);
    PyBuffer_Release(&data);
    PyBuffer_Release(&offs);
    return out;
}

static PyObject *accelerated(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    if (has_shani) return PyUnicode_FromString("sha-ni");
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"hash_strs", hash_strs, METH_VARARGS,
     "hash_strs(prefix, messages, threads, chunk, digests, keys, impl) -> (digests, keys)"},
    {"hash_packed", hash_packed, METH_VARARGS,
     "hash_packed(prefix, data, offsets, threads, chunk, digests, keys, impl) -> (digests, keys)"},
    {"hash_counters", hash_counters, METH_VARARGS, "hash_counters(prefix, first, n, threads, chunk, impl) -> digests"},
    {"tickets_of", tickets_of, METH_VARARGS, "tickets_of(block, indexes) -> list of ticket strings"},
    {"sort_keys", sort_keys, METH_VARARGS, "sort_keys(keys) -> (order, sorted, ties): a radix argsort of keys < 2**30"},
    {"frame_chunk", frame_chunk, METH_VARARGS,
     "frame_chunk(rows, last) -> (canonical bytes, {stratum: rows}), None (not plainly canonical) or False"},
    {"frame_split", frame_split, METH_VARARGS,
     "frame_split(data, last) -> (last identifier, lines, [(stratum, identifiers, lengths)]) or None"},
    {"packed_take", packed_take, METH_VARARGS, "packed_take(data, offsets, indices) -> the packed identifiers at these positions"},
    {"offsets_of", offsets_of, METH_VARARGS, "offsets_of(parts) -> 0 and the running sums of the int64 lengths in parts"},
    {"json_lines", json_lines, METH_VARARGS, "json_lines(prefixes, columns, suffix) -> the log's lines of child rows, or None"},
    {"accelerated", accelerated, METH_NOARGS, "'sha-ni' if the CPU's SHA extensions are used, else None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sha256x", "SHA-256 of prefix + message for many messages, in C.", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__sha256x(void) {
    init_tables();
#ifdef HAVE_SHANI
    has_shani = cpu_has_shani();
#endif
    return PyModule_Create(&module);
}
