/* inspect_kit._sha256x: SHA-256 of prefix + message for many short messages, in C.

   hash_strs(prefix, messages, threads, chunk, digests, keys, impl)       messages: a list or tuple of str
   hash_packed(prefix, data, offsets, threads, chunk, digests, keys, impl) message i: data[offsets[i]:offsets[i+1]]
   hash_counters(prefix, first, n, threads, chunk, impl)      message i: the decimal digits of first + i
   tickets_of(block, indexes)                                 consistent-sampler tickets of digests
   sort_keys(keys)                                            a radix argsort of the ticket keys
   accelerated()                                              "sha-ni" if this CPU has it, else None

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
