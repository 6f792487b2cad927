/* inspect_kit._csvx: the common case of a registry CSV block, compiled (see inspect_kit/registry/fast_csv.py).

   parse_block(text, pos, max_records, final, delimiter, first_line, wanted, clean)
     Reads up to `max_records` records of `text` (a str: the decoded file, a chunk at a time) from
     index `pos`, each record one physical line ended by "\n", "\r\n" or "\r" (as csv.reader reads
     a file opened with newline=""), and returns
         (end, lines, nums, columns, flags)
     end      the index after the last record read (only whole lines are read: a line cut by the
              end of `text` is left for the next call unless `final`)
     lines    the records (= lines) read, blank ones included
     nums     the line number (first_line + k, k = 1..lines) of every record that is not blank
     columns  for each cell index of `wanted`, the list of that cell of every non-blank record,
              cleaned: clean(cell) where the cell is not plainly clean (inspect_kit.text.clean_cell),
              "" for a record shorter than the index
     flags    per wanted column: bit 0 some cell is "", bit 1 every cell is ASCII without a space
     or None when any record of the block is not plainly readable here, so that the caller reads
     the same records with csv.reader and the checks that name the row and the reason:
       a quoted cell that spans lines, text after a closing quote, a cell longer than
       MAX_CELL_CHARS or beginning with an apostrophe, more than MAX_COLUMNS cells, a refused
       character (inspect_kit.text.REFUSED_TEXT).
   A blank record (no cell, or only white space in every cell: "".join(cells).strip() == "") is
   counted in `lines` and left out of `nums` and `columns`.

   Safety: every read of `text` is at an index below its length; nothing is kept between calls. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define MAX_CELL_CHARS 32767
#define MAX_COLUMNS 512

/* What a character of a cell is, for the checks. */
enum { C_PLAIN_ASCII = 0, C_SPACE = 1, C_PLAIN_WIDE = 2, C_ODD = 3, C_REFUSED = 4 };

static inline int is_refused(Py_UCS4 c) {
    if (c < 0x20) return !(c == 0x09 || c == 0x0A || c == 0x0D);
    if (c >= 0x7F && c <= 0x9F) return 1;
    if (c == 0x061C || c == 0x200E || c == 0x200F) return 1;
    if (c >= 0x202A && c <= 0x202E) return 1;
    if (c >= 0x2066 && c <= 0x2069) return 1;
    if (c >= 0xD800 && c <= 0xDFFF) return 1;
    return 0;
}

/* Characters that are never white space, never removed by clean_cell, and leave a text NFC
   (canonical combining class 0, NFC_Quick_Check=Yes, never the second of a composition pair);
   tests/test_fast_csv.py checks the ranges against the running Python's Unicode data. */
static inline int is_plain_wide(Py_UCS4 c) {
    if (c >= 0x4E00 && c <= 0x9FFF) return 1; /* CJK unified ideographs */
    if (c >= 0xFF01 && c <= 0xFF5E) return 1; /* full-width ASCII forms */
    if (c >= 0x3001 && c <= 0x3029) return 1; /* CJK punctuation (not U+3000, not the marks U+302A-F) */
    if (c >= 0x3400 && c <= 0x4DBF) return 1; /* CJK extension A */
    if (c >= 0xA1 && c <= 0xFF && c != 0xAD) return 1; /* Latin-1 (not NBSP, not the soft hyphen) */
    if (c >= 0x2010 && c <= 0x2027) return 1; /* dashes, quotes, bullets, ellipsis */
    return 0;
}

static inline int classify(Py_UCS4 c) {
    if (c < 0x80) {
        if (c == ' ') return C_SPACE;
        if (c < 0x20 || c == 0x7F) return (c == 0x09) ? C_ODD : C_REFUSED;
        return C_PLAIN_ASCII;
    }
    if (is_refused(c)) return C_REFUSED;
    return is_plain_wide(c) ? C_PLAIN_WIDE : C_ODD;
}

#if defined(__GNUC__) || defined(__clang__)
#define INLINE static inline __attribute__((always_inline))
#else
#define INLINE static inline
#endif

typedef struct {
    Py_ssize_t start, end; /* the cell's characters: text[start:end] (quotes still doubled if dq) */
    int dq;                /* a quoted cell with "" inside */
    Py_UCS4 maxchar;       /* the largest character of the cell */
} Cell;

/* The cell as a new str object (doubled quotes made single), or NULL with an exception set. The
   callers pass `kind` as a constant: each kind gets its own compiled loops. */
INLINE PyObject *cell_text(int kind, const void *data, const Cell *cell) {
    Py_ssize_t n = cell->end - cell->start;
    if (!cell->dq) {
        PyObject *s = PyUnicode_New(n, cell->maxchar);
        if (s == NULL) return NULL;
        int skind = PyUnicode_KIND(s);
        void *sdata = PyUnicode_DATA(s);
        if (skind == kind)
            memcpy(sdata, (const char *)data + cell->start * kind, (size_t)(n * kind));
        else
            for (Py_ssize_t k = 0; k < n; k++) PyUnicode_WRITE(skind, sdata, k, PyUnicode_READ(kind, data, cell->start + k));
        return s;
    }
    Py_UCS4 *buf = PyMem_Malloc((size_t)(n > 0 ? n : 1) * sizeof(Py_UCS4));
    if (buf == NULL) return PyErr_NoMemory();
    Py_ssize_t m = 0;
    for (Py_ssize_t k = cell->start; k < cell->end; k++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, k);
        buf[m++] = c;
        if (c == '"' && k + 1 < cell->end) k++; /* the second quote of a pair */
    }
    PyObject *out = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, m);
    PyMem_Free(buf);
    return out;
}

#define MEMO_SLOTS 64 /* per wanted column */
#define MEMO_CHARS 64 /* longer cells are not looked up */

/* Whether str `s` holds exactly the characters text[start:end]. */
INLINE int same_text(PyObject *s, int kind, const void *data, Py_ssize_t start, Py_ssize_t end) {
    if (PyUnicode_GET_LENGTH(s) != end - start) return 0;
    int skind = PyUnicode_KIND(s);
    const void *sdata = PyUnicode_DATA(s);
    for (Py_ssize_t k = 0; k < end - start; k++)
        if (PyUnicode_READ(skind, sdata, k) != PyUnicode_READ(kind, data, start + k)) return 0;
    return 1;
}

static void free_memo(PyObject **memo, Py_ssize_t nw) {
    if (memo == NULL) return;
    for (Py_ssize_t k = 0; k < (nw > 0 ? nw : 1) * MEMO_SLOTS; k++) Py_XDECREF(memo[k]);
    PyMem_Free(memo);
}

/* parse_block's work, for text of one kind (a constant at each call: three specialised copies). */
INLINE PyObject *parse_impl(const int kind, const void *data, const Py_ssize_t n, Py_ssize_t pos, Py_ssize_t max_records,
                            int final, Py_UCS4 delim, Py_ssize_t first_line, Py_ssize_t nw, const int *slot_of,
                            Py_ssize_t need, PyObject *clean) {
    PyObject *nums = PyList_New(0), *cols = PyList_New(nw), *flags_list = NULL, *result = NULL;
    PyObject **memo = NULL;
    int flags[MAX_COLUMNS];
    Cell cells[MAX_COLUMNS];
    int needs_clean[MAX_COLUMNS];
    if (nums == NULL || cols == NULL) goto fail;
    for (Py_ssize_t j = 0; j < nw; j++) {
        PyObject *l = PyList_New(0);
        if (l == NULL) goto fail;
        PyList_SET_ITEM(cols, j, l);
        flags[j] = 2;
    }

    /* the last cells met in each wanted column, by a hash of their text: a repeated value (a
       category, a township) is one str object, hashed and encoded once downstream */
    memo = PyMem_Calloc((size_t)(nw > 0 ? nw : 1) * MEMO_SLOTS, sizeof(PyObject *));
    Py_uhash_t hashes[MAX_COLUMNS];
    if (memo == NULL) {
        PyErr_NoMemory();
        goto fail;
    }

    Py_ssize_t i = pos, records = 0;
    while (records < max_records && i < n) {
        /* the line: text[i:eol], then its terminator */
        Py_ssize_t eol = i;
        while (eol < n) {
            Py_UCS4 c = PyUnicode_READ(kind, data, eol);
            if (c == '\r' || c == '\n') break;
            eol++;
        }
        Py_ssize_t next;
        if (eol == n) {
            if (!final) break; /* the line may go on in the next chunk */
            next = n;
        } else if (PyUnicode_READ(kind, data, eol) == '\r') {
            if (eol + 1 < n)
                next = eol + 1 + (PyUnicode_READ(kind, data, eol + 1) == '\n');
            else if (final)
                next = eol + 1;
            else
                break; /* "\r" last: a "\n" may follow in the next chunk */
        } else {
            next = eol + 1;
        }

        /* the cells of the line */
        Py_ssize_t ncells = 0;
        int blank = 1;
        if (eol > i) {
            Py_ssize_t k = i;
            for (;;) {
                if (ncells >= MAX_COLUMNS) goto bail;
                Cell *cell = &cells[ncells];
                int slot = ncells < MAX_COLUMNS ? slot_of[ncells] : -1;
                int odd = 0, prev_space = 0;
                cell->dq = 0;
                if (k < eol && PyUnicode_READ(kind, data, k) == '"') {
                    k++;
                    cell->start = k;
                    for (;;) {
                        if (k >= eol) goto bail; /* the quoted cell goes on past the line */
                        Py_UCS4 c = PyUnicode_READ(kind, data, k);
                        if (c == '"') {
                            if (k + 1 < eol && PyUnicode_READ(kind, data, k + 1) == '"') {
                                cell->dq = 1;
                                k += 2;
                                continue;
                            }
                            break;
                        }
                        k++;
                    }
                    cell->end = k;
                    k++; /* the closing quote */
                    if (k < eol && PyUnicode_READ(kind, data, k) != delim) goto bail;
                } else {
                    cell->start = k;
                    while (k < eol && PyUnicode_READ(kind, data, k) != delim) k++;
                    cell->end = k;
                }
                /* the checks, on the cell's characters (a doubled quote is two plain characters) */
                Py_ssize_t len = cell->end - cell->start;
                if (len > MAX_CELL_CHARS && !cell->dq) goto bail;
                int ascii_nospace = 1;
                Py_uhash_t h = 5381;
                Py_UCS4 maxc = 0;
                for (Py_ssize_t q = cell->start; q < cell->end; q++) {
                    Py_UCS4 c = PyUnicode_READ(kind, data, q);
                    h = h * 33 + c;
                    if (c > maxc) maxc = c;
                    int cls = classify(c);
                    if (cls == C_REFUSED) goto bail;
                    if (cls == C_SPACE) {
                        ascii_nospace = 0;
                        if (prev_space || q == cell->start || q + 1 == cell->end) odd = 1;
                        prev_space = 1;
                        continue;
                    }
                    prev_space = 0;
                    if (cls != C_PLAIN_ASCII) ascii_nospace = 0;
                    if (cls == C_ODD) odd = 1;
                    if (blank && !Py_UNICODE_ISSPACE(c)) blank = 0;
                }
                cell->maxchar = maxc;
                if (len > 0 && PyUnicode_READ(kind, data, cell->start) == '\'') goto bail; /* restore_cell's */
                if (cell->dq) {
                    Py_ssize_t m = 0;
                    for (Py_ssize_t q = cell->start; q < cell->end; q++, m++)
                        if (PyUnicode_READ(kind, data, q) == '"' && q + 1 < cell->end) q++;
                    if (m > MAX_CELL_CHARS) goto bail;
                }
                if (slot >= 0) {
                    needs_clean[slot] = odd;
                    hashes[slot] = h;
                    if (!ascii_nospace || odd) flags[slot] &= ~2;
                }
                ncells++;
                if (k >= eol) break;
                k++; /* the delimiter; a cell follows, empty if the line ends here */
            }
        }
        records++;
        if (!blank) {
            PyObject *num = PyLong_FromSsize_t(first_line + records);
            if (num == NULL) goto fail;
            int bad = PyList_Append(nums, num);
            Py_DECREF(num);
            if (bad) goto fail;
            for (Py_ssize_t c = 0; c < need; c++) {
                int slot = slot_of[c];
                if (slot < 0) continue;
                PyObject *s;
                if (c >= ncells || cells[c].end == cells[c].start) {
                    s = PyUnicode_New(0, 0);
                    if (s == NULL) goto fail;
                    flags[slot] |= 1;
                } else if (!needs_clean[slot] && !cells[c].dq && cells[c].end - cells[c].start <= MEMO_CHARS) {
                    PyObject **at = &memo[(size_t)slot * MEMO_SLOTS + (hashes[slot] % MEMO_SLOTS)];
                    if (*at != NULL && same_text(*at, kind, data, cells[c].start, cells[c].end)) {
                        s = *at;
                        Py_INCREF(s);
                    } else {
                        s = cell_text(kind, data, &cells[c]);
                        if (s == NULL) goto fail;
                        Py_XSETREF(*at, Py_NewRef(s));
                    }
                } else {
                    s = cell_text(kind, data, &cells[c]);
                    if (s == NULL) goto fail;
                    if (needs_clean[slot]) {
                        PyObject *t = PyObject_CallOneArg(clean, s);
                        Py_DECREF(s);
                        if (t == NULL) goto fail;
                        if (!PyUnicode_Check(t)) {
                            Py_DECREF(t);
                            PyErr_SetString(PyExc_TypeError, "clean() must return a str");
                            goto fail;
                        }
                        s = t;
                        if (PyUnicode_GET_LENGTH(s) == 0) flags[slot] |= 1;
                    }
                }
                bad = PyList_Append(PyList_GET_ITEM(cols, slot), s);
                Py_DECREF(s);
                if (bad) goto fail;
            }
        }
        i = next;
    }

    flags_list = PyList_New(nw);
    if (flags_list == NULL) goto fail;
    for (Py_ssize_t j = 0; j < nw; j++) {
        PyObject *f = PyLong_FromLong(flags[j]);
        if (f == NULL) goto fail;
        PyList_SET_ITEM(flags_list, j, f);
    }
    free_memo(memo, nw);
    result = Py_BuildValue("nnNNN", i, records, nums, cols, flags_list);
    return result;

bail:
    free_memo(memo, nw);
    Py_XDECREF(nums);
    Py_XDECREF(cols);
    Py_RETURN_NONE;
fail:
    free_memo(memo, nw);
    Py_XDECREF(nums);
    Py_XDECREF(cols);
    Py_XDECREF(flags_list);
    return NULL;
}

/* The length of the JSON text of str `s` as json.dumps(s, ensure_ascii=False) writes it, quotes included. */
static Py_ssize_t json_str_len(PyObject *s) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(s), len = n + 2;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
            len += 1;
        else if (c < 0x20)
            len += 5;
    }
    return len;
}

/* Copy the n characters of `data` (of `kind`) into `odata` (of `okind`, at least as wide) at `at`. */
static void copy_chars(int okind, void *odata, Py_ssize_t at, int kind, const void *data, Py_ssize_t n) {
    if (okind == kind) {
        memcpy((char *)odata + at * okind, data, (size_t)(n * kind));
    } else if (okind == PyUnicode_2BYTE_KIND) { /* from 1 byte */
        Py_UCS2 *o = (Py_UCS2 *)odata + at;
        for (Py_ssize_t k = 0; k < n; k++) o[k] = ((const Py_UCS1 *)data)[k];
    } else if (kind == PyUnicode_1BYTE_KIND) { /* 4 from 1 */
        Py_UCS4 *o = (Py_UCS4 *)odata + at;
        for (Py_ssize_t k = 0; k < n; k++) o[k] = ((const Py_UCS1 *)data)[k];
    } else { /* 4 from 2 */
        Py_UCS4 *o = (Py_UCS4 *)odata + at;
        for (Py_ssize_t k = 0; k < n; k++) o[k] = ((const Py_UCS2 *)data)[k];
    }
}

/* Write the JSON text of str `s` into `out` at `at` (room checked by json_str_len; `plain`: it has
   nothing to escape); the index after it. */
static Py_ssize_t json_str_write(PyObject *out, int okind, void *odata, Py_ssize_t at, PyObject *s, int plain) {
    static const char hex[] = "0123456789abcdef";
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    PyUnicode_WRITE(okind, odata, at++, '"');
    if (plain) {
        copy_chars(okind, odata, at, kind, data, n);
        at += n;
        PyUnicode_WRITE(okind, odata, at++, '"');
        return at;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c >= 0x20 && c != '"' && c != '\\') {
            PyUnicode_WRITE(okind, odata, at++, c);
            continue;
        }
        PyUnicode_WRITE(okind, odata, at++, '\\');
        switch (c) {
        case '"': PyUnicode_WRITE(okind, odata, at++, '"'); break;
        case '\\': PyUnicode_WRITE(okind, odata, at++, '\\'); break;
        case '\b': PyUnicode_WRITE(okind, odata, at++, 'b'); break;
        case '\f': PyUnicode_WRITE(okind, odata, at++, 'f'); break;
        case '\n': PyUnicode_WRITE(okind, odata, at++, 'n'); break;
        case '\r': PyUnicode_WRITE(okind, odata, at++, 'r'); break;
        case '\t': PyUnicode_WRITE(okind, odata, at++, 't'); break;
        default:
            PyUnicode_WRITE(okind, odata, at++, 'u');
            PyUnicode_WRITE(okind, odata, at++, '0');
            PyUnicode_WRITE(okind, odata, at++, '0');
            PyUnicode_WRITE(okind, odata, at++, hex[(c >> 4) & 0xF]);
            PyUnicode_WRITE(okind, odata, at++, hex[c & 0xF]);
        }
    }
    PyUnicode_WRITE(okind, odata, at++, '"');
    return at;
}

/* json_columns(columns, jsonable): the JSON text that json.dumps([[jsonable(v) for v in c] for c in
   columns], ensure_ascii=False, separators=(",", ":")) writes, where every value is str or None or
   jsonable() makes it str or None; None if another value is met (the caller serializes in Python).
   jsonable is called only for values that are neither str nor None. */
static PyObject *json_columns(PyObject *self, PyObject *args) {
    PyObject *columns, *jsonable;
    if (!PyArg_ParseTuple(args, "OO", &columns, &jsonable)) return NULL;
    PyObject *seq = PySequence_Fast(columns, "columns must be a sequence");
    if (seq == NULL) return NULL;
    Py_ssize_t nc = PySequence_Fast_GET_SIZE(seq);
    PyObject *cols = PyList_New(nc); /* each column as a list of str or None */
    PyObject *out = NULL;
    if (cols == NULL) goto done;
    Py_ssize_t len = 2 + (nc > 0 ? nc - 1 : 0); /* [ ] and the commas between columns */
    Py_UCS4 maxchar = 0x7F;
    for (Py_ssize_t j = 0; j < nc; j++) {
        PyObject *col = PySequence_List(PySequence_Fast_GET_ITEM(seq, j));
        if (col == NULL) goto done;
        PyList_SET_ITEM(cols, j, col);
        Py_ssize_t n = PyList_GET_SIZE(col);
        len += 2 + (n > 0 ? n - 1 : 0);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *v = PyList_GET_ITEM(col, i);
            if (v != Py_None && !PyUnicode_CheckExact(v)) {
                PyObject *t = PyObject_CallOneArg(jsonable, v);
                if (t == NULL) goto done;
                PyList_SetItem(col, i, t); /* steals t, releases v */
                v = t;
                if (v != Py_None && !PyUnicode_CheckExact(v)) {
                    out = Py_None;
                    Py_INCREF(out);
                    goto done;
                }
            }
            if (v == Py_None) {
                len += 4;
            } else {
                len += json_str_len(v);
                Py_UCS4 m = PyUnicode_MAX_CHAR_VALUE(v);
                if (m > maxchar) maxchar = m;
            }
        }
    }
    out = PyUnicode_New(len, maxchar);
    if (out == NULL) goto done;
    int okind = PyUnicode_KIND(out);
    void *odata = PyUnicode_DATA(out);
    Py_ssize_t at = 0;
    PyUnicode_WRITE(okind, odata, at++, '[');
    for (Py_ssize_t j = 0; j < nc; j++) {
        PyObject *col = PyList_GET_ITEM(cols, j);
        if (j > 0) PyUnicode_WRITE(okind, odata, at++, ',');
        PyUnicode_WRITE(okind, odata, at++, '[');
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(col); i++) {
            PyObject *v = PyList_GET_ITEM(col, i);
            if (i > 0) PyUnicode_WRITE(okind, odata, at++, ',');
            if (v == Py_None) {
                PyUnicode_WRITE(okind, odata, at++, 'n');
                PyUnicode_WRITE(okind, odata, at++, 'u');
                PyUnicode_WRITE(okind, odata, at++, 'l');
                PyUnicode_WRITE(okind, odata, at++, 'l');
            } else {
                at = json_str_write(out, okind, odata, at, v, json_str_len(v) == PyUnicode_GET_LENGTH(v) + 2);
            }
        }
        PyUnicode_WRITE(okind, odata, at++, ']');
    }
    PyUnicode_WRITE(okind, odata, at++, ']');
    if (at != len) { /* cannot happen: the lengths were counted above */
        Py_CLEAR(out);
        PyErr_SetString(PyExc_SystemError, "json_columns: length mismatch");
    }
done:
    Py_XDECREF(cols);
    Py_DECREF(seq);
    return out;
}

static PyObject *parse_block(PyObject *self, PyObject *args) {
    PyObject *text, *wanted, *clean;
    Py_ssize_t pos, max_records, first_line;
    int final;
    Py_UCS4 delim;
    PyObject *delim_obj;
    if (!PyArg_ParseTuple(args, "UnnpUnO!O", &text, &pos, &max_records, &final, &delim_obj, &first_line,
                          &PyTuple_Type, &wanted, &clean))
        return NULL;
    if (PyUnicode_GET_LENGTH(delim_obj) != 1) {
        PyErr_SetString(PyExc_ValueError, "delimiter must be one character");
        return NULL;
    }
    delim = PyUnicode_READ_CHAR(delim_obj, 0);
    if (delim == '"' || delim == '\r' || delim == '\n' || delim == ' ') {
        PyErr_SetString(PyExc_ValueError, "unsupported delimiter");
        return NULL;
    }
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (pos < 0 || pos > n || max_records < 0) {
        PyErr_SetString(PyExc_ValueError, "pos out of range");
        return NULL;
    }
    const Py_ssize_t nw = PyTuple_GET_SIZE(wanted);
    if (nw > MAX_COLUMNS) {
        PyErr_SetString(PyExc_ValueError, "too many wanted columns");
        return NULL;
    }
    int slot_of[MAX_COLUMNS]; /* cell index -> position in wanted, or -1 */
    Py_ssize_t need = 0;      /* cells a record must have to hold every wanted cell */
    for (int i = 0; i < MAX_COLUMNS; i++) slot_of[i] = -1;
    for (Py_ssize_t j = 0; j < nw; j++) {
        Py_ssize_t c = PyLong_AsSsize_t(PyTuple_GET_ITEM(wanted, j));
        if (c == -1 && PyErr_Occurred()) return NULL;
        if (c < 0 || c >= MAX_COLUMNS || slot_of[c] != -1) {
            PyErr_SetString(PyExc_ValueError, "wanted: distinct cell indexes below MAX_COLUMNS");
            return NULL;
        }
        slot_of[c] = (int)j;
        if (c + 1 > need) need = c + 1;
    }

    const void *data = PyUnicode_DATA(text);
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        return parse_impl(PyUnicode_1BYTE_KIND, data, n, pos, max_records, final, delim, first_line, nw, slot_of, need, clean);
    case PyUnicode_2BYTE_KIND:
        return parse_impl(PyUnicode_2BYTE_KIND, data, n, pos, max_records, final, delim, first_line, nw, slot_of, need, clean);
    default:
        return parse_impl(PyUnicode_4BYTE_KIND, data, n, pos, max_records, final, delim, first_line, nw, slot_of, need, clean);
    }
}

/* uscc_all_valid(codes): all(inspect_kit.registry.uscc.is_valid(c) for c in codes) for a list of
   str; None if an item is not a str (the caller checks in Python). GB 32100: 2 characters of the
   alphabet, 6 digits, 10 characters of the alphabet, the last the mod-31 check character. */
static const char USCC_ALPHABET[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static PyObject *uscc_all_valid(PyObject *self, PyObject *codes) {
    static int value[128];
    static int ready = 0;
    if (!ready) {
        for (int c = 0; c < 128; c++) value[c] = -1;
        for (int v = 0; v < 31; v++) value[(unsigned char)USCC_ALPHABET[v]] = v;
        ready = 1;
    }
    if (!PyList_Check(codes)) {
        PyErr_SetString(PyExc_TypeError, "codes must be a list");
        return NULL;
    }
    int ok = 1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(codes); i++) {
        PyObject *code = PyList_GET_ITEM(codes, i);
        if (!PyUnicode_CheckExact(code)) Py_RETURN_NONE;
        if (!ok) continue; /* still make sure every item is a str */
        if (PyUnicode_GET_LENGTH(code) != 18 || PyUnicode_KIND(code) != PyUnicode_1BYTE_KIND) {
            ok = 0;
            continue;
        }
        const Py_UCS1 *d = PyUnicode_1BYTE_DATA(code);
        int sum = 0, weight = 1;
        for (int k = 0; k < 18; k++) {
            int v = d[k] < 128 ? value[d[k]] : -1;
            if (v < 0 || (k >= 2 && k < 8 && v > 9)) {
                ok = 0;
                break;
            }
            if (k < 17) {
                sum += v * weight;
                weight = weight * 3 % 31;
            } else if (USCC_ALPHABET[(31 - sum % 31) % 31] != (char)d[17]) {
                ok = 0;
            }
        }
    }
    return PyBool_FromLong(ok);
}

/* row_hashes(columns): bytes of the int64 hash(tuple(row)) of every row of `columns` (lists of
   equal length), computed as CPython 3.8+ hashes a tuple (xxHash-style, tupleobject.c); the module
   checks it against hash() at import and does not use it if they differ. */
#if SIZEOF_PY_UHASH_T > 4
#define XXPRIME_1 ((Py_uhash_t)11400714785074694791ULL)
#define XXPRIME_2 ((Py_uhash_t)14029467366897019727ULL)
#define XXPRIME_5 ((Py_uhash_t)2870177450012600261ULL)
#define XXROTATE(x) ((x << 31) | (x >> 33))
#else
#define XXPRIME_1 ((Py_uhash_t)2654435761UL)
#define XXPRIME_2 ((Py_uhash_t)2246822519UL)
#define XXPRIME_5 ((Py_uhash_t)374761393UL)
#define XXROTATE(x) ((x << 13) | (x >> 19))
#endif

static PyObject *row_hashes(PyObject *self, PyObject *columns) {
    if (!PyList_Check(columns)) {
        PyErr_SetString(PyExc_TypeError, "columns must be a list of lists");
        return NULL;
    }
    Py_ssize_t nc = PyList_GET_SIZE(columns), n = -1;
    for (Py_ssize_t j = 0; j < nc; j++) {
        PyObject *col = PyList_GET_ITEM(columns, j);
        if (!PyList_Check(col) || (n >= 0 && PyList_GET_SIZE(col) != n)) {
            PyErr_SetString(PyExc_ValueError, "columns must be lists of one length");
            return NULL;
        }
        n = PyList_GET_SIZE(col);
    }
    if (n < 0) n = 0;
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t));
    if (out == NULL) return NULL;
    int64_t *h = (int64_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_uhash_t acc = XXPRIME_5;
        for (Py_ssize_t j = 0; j < nc; j++) {
            PyObject *col = PyList_GET_ITEM(columns, j);
            if (i >= PyList_GET_SIZE(col)) { /* a column shortened by a hash() call */
                Py_DECREF(out);
                PyErr_SetString(PyExc_RuntimeError, "a column changed size");
                return NULL;
            }
            Py_uhash_t lane = (Py_uhash_t)PyObject_Hash(PyList_GET_ITEM(col, i));
            if (lane == (Py_uhash_t)-1) {
                Py_DECREF(out);
                return NULL;
            }
            acc += lane * XXPRIME_2;
            acc = XXROTATE(acc);
            acc *= XXPRIME_1;
        }
        acc += (Py_uhash_t)nc ^ (XXPRIME_5 ^ 3527539UL);
        if (acc == (Py_uhash_t)-1) acc = 1546275796;
        h[i] = (int64_t)(Py_hash_t)acc;
    }
    return out;
}

/* KeyIndex: key -> ordinal, for the keys of an import (a million of them): open addressing with
   linear probing over one array of (hash, key, ordinal) entries, so that a lookup is mostly one
   cache miss (a dict's are two, and it grows by copying). Keys are held (strong references). */
typedef struct {
    Py_hash_t hash;
    PyObject *key; /* NULL: empty */
    Py_ssize_t value;
} Entry;

typedef struct {
    PyObject_HEAD
    Entry *table;
    size_t mask; /* capacity - 1 (a power of two) */
    Py_ssize_t used;
} KeyIndex;

/* The slot holding `key`, or the empty slot where it would go; -2 on an error. */
static Py_ssize_t ki_find(KeyIndex *ki, PyObject *key, Py_hash_t h) {
    size_t i = (size_t)h & ki->mask;
    for (;;) {
        Entry *e = &ki->table[i];
        if (e->key == NULL) return (Py_ssize_t)i;
        if (e->hash == h) {
            if (e->key == key) return (Py_ssize_t)i;
            PyObject *k = e->key;
            Py_INCREF(k);
            int eq = PyObject_RichCompareBool(k, key, Py_EQ);
            Py_DECREF(k);
            if (eq < 0) return -2;
            if (eq) return (Py_ssize_t)i;
        }
        i = (i + 1) & ki->mask;
    }
}

static int ki_grow(KeyIndex *ki, Py_ssize_t more) {
    size_t need = (size_t)(ki->used + more) * 2 + 8, cap = ki->mask + 1;
    if (cap >= need) return 0;
    while (cap < need) cap <<= 1;
    Entry *t = PyMem_Calloc(cap, sizeof(Entry));
    if (t == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t k = 0; k <= ki->mask; k++) {
        Entry *e = &ki->table[k];
        if (e->key == NULL) continue;
        size_t i = (size_t)e->hash & (cap - 1);
        while (t[i].key != NULL) i = (i + 1) & (cap - 1);
        t[i] = *e;
    }
    PyMem_Free(ki->table);
    ki->table = t;
    ki->mask = cap - 1;
    return 0;
}

static PyObject *ki_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    KeyIndex *ki = (KeyIndex *)type->tp_alloc(type, 0);
    if (ki == NULL) return NULL;
    ki->table = PyMem_Calloc(8, sizeof(Entry));
    if (ki->table == NULL) {
        Py_DECREF(ki);
        return PyErr_NoMemory();
    }
    ki->mask = 7;
    return (PyObject *)ki;
}

static void ki_dealloc(KeyIndex *ki) {
    if (ki->table != NULL) {
        for (size_t k = 0; k <= ki->mask; k++) Py_XDECREF(ki->table[k].key);
        PyMem_Free(ki->table);
    }
    Py_TYPE(ki)->tp_free((PyObject *)ki);
}

static Py_ssize_t ki_len(KeyIndex *ki) { return ki->used; }

/* get(key): its ordinal, or None. */
static PyObject *ki_get(KeyIndex *ki, PyObject *key) {
    Py_hash_t h = PyObject_Hash(key);
    if (h == -1) return NULL;
    Py_ssize_t i = ki_find(ki, key, h);
    if (i == -2) return NULL;
    if (ki->table[i].key == NULL) Py_RETURN_NONE;
    return PyLong_FromSsize_t(ki->table[i].value);
}

/* add(key, ordinal): a key not in the index. */
static PyObject *ki_add(KeyIndex *ki, PyObject *args) {
    PyObject *key;
    Py_ssize_t value;
    if (!PyArg_ParseTuple(args, "On", &key, &value)) return NULL;
    Py_hash_t h = PyObject_Hash(key);
    if (h == -1 || ki_grow(ki, 1) < 0) return NULL;
    Py_ssize_t i = ki_find(ki, key, h);
    if (i == -2) return NULL;
    if (ki->table[i].key != NULL) {
        PyErr_SetString(PyExc_KeyError, "key already in the index");
        return NULL;
    }
    Py_INCREF(key);
    ki->table[i] = (Entry){h, key, value};
    ki->used++;
    Py_RETURN_NONE;
}

/* add_new(keys, start): keys[i] -> start + i for every i if none is in the index nor twice in
   `keys` (True); else nothing is added (False). */
static PyObject *ki_add_new(KeyIndex *ki, PyObject *args) {
    PyObject *keys;
    Py_ssize_t start;
    if (!PyArg_ParseTuple(args, "O!n", &PyList_Type, &keys, &start)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(keys);
    if (ki_grow(ki, n) < 0) return NULL;
    Py_hash_t *hs = PyMem_Malloc((size_t)(n > 0 ? n : 1) * sizeof(Py_hash_t));
    if (hs == NULL) return PyErr_NoMemory();
    /* the keys are not in the index, and differ from each other: a small table of the block */
    size_t cap = 16;
    while (cap < (size_t)n * 2) cap <<= 1;
    Py_ssize_t *local = PyMem_Malloc(cap * sizeof(Py_ssize_t));
    if (local == NULL) {
        PyMem_Free(hs);
        return PyErr_NoMemory();
    }
    for (size_t k = 0; k < cap; k++) local[k] = -1;
    PyObject *result = Py_True;
    for (Py_ssize_t i = 0; i < n && result == Py_True; i++) {
        PyObject *key = PyList_GET_ITEM(keys, i);
        Py_hash_t h = PyObject_Hash(key);
        if (h == -1) goto error;
        hs[i] = h;
        Py_ssize_t at = ki_find(ki, key, h);
        if (at == -2) goto error;
        if (ki->table[at].key != NULL) {
            result = Py_False;
            break;
        }
        size_t q = (size_t)h & (cap - 1);
        while (local[q] >= 0) {
            Py_ssize_t o = local[q];
            if (hs[o] == h) {
                int eq = PyObject_RichCompareBool(PyList_GET_ITEM(keys, o), key, Py_EQ);
                if (eq < 0) goto error;
                if (eq) {
                    result = Py_False;
                    break;
                }
            }
            q = (q + 1) & (cap - 1);
        }
        local[q] = i;
    }
    if (result == Py_True) {
        if (PyList_GET_SIZE(keys) != n) { /* a comparison changed the list */
            PyErr_SetString(PyExc_RuntimeError, "keys changed size");
            goto error;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *key = PyList_GET_ITEM(keys, i);
            size_t q = (size_t)hs[i] & ki->mask;
            while (ki->table[q].key != NULL) q = (q + 1) & ki->mask;
            Py_INCREF(key);
            ki->table[q] = (Entry){hs[i], key, start + i};
            ki->used++;
        }
    }
    PyMem_Free(hs);
    PyMem_Free(local);
    Py_INCREF(result);
    return result;
error:
    PyMem_Free(hs);
    PyMem_Free(local);
    return NULL;
}

static PyMethodDef ki_methods[] = {
    {"get", (PyCFunction)ki_get, METH_O, "The ordinal of a key, or None."},
    {"add", (PyCFunction)ki_add, METH_VARARGS, "Add a key that is not in the index, with its ordinal."},
    {"add_new", (PyCFunction)ki_add_new, METH_VARARGS, "Add keys if all are new (see the source)."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods ki_as_sequence = {.sq_length = (lenfunc)ki_len};

static PyTypeObject KeyIndexType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "inspect_kit._csvx.KeyIndex",
    .tp_basicsize = sizeof(KeyIndex),
    .tp_dealloc = (destructor)ki_dealloc,
    .tp_as_sequence = &ki_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "key -> ordinal, for many keys (see the source).",
    .tp_methods = ki_methods,
    .tp_new = ki_new,
};

/* flat_rows(columns, per): for the rows of `columns` (lists of one length n) taken `per` at a time,
   the tuple of their values row after row (what one INSERT of `per` rows binds): n // per tuples of
   per * len(columns) values; the last n % per rows are left to the caller. */
static PyObject *flat_rows(PyObject *self, PyObject *args) {
    PyObject *columns;
    Py_ssize_t per;
    if (!PyArg_ParseTuple(args, "O!n", &PyList_Type, &columns, &per)) return NULL;
    Py_ssize_t nc = PyList_GET_SIZE(columns), n = 0;
    if (per < 1 || nc < 1) {
        PyErr_SetString(PyExc_ValueError, "need per >= 1 and a column");
        return NULL;
    }
    for (Py_ssize_t j = 0; j < nc; j++) {
        PyObject *col = PyList_GET_ITEM(columns, j);
        if (!PyList_Check(col) || (j > 0 && PyList_GET_SIZE(col) != n)) {
            PyErr_SetString(PyExc_ValueError, "columns must be lists of one length");
            return NULL;
        }
        n = PyList_GET_SIZE(col);
    }
    Py_ssize_t groups = n / per;
    PyObject *out = PyList_New(groups);
    if (out == NULL) return NULL;
    for (Py_ssize_t g = 0; g < groups; g++) {
        PyObject *t = PyTuple_New(per * nc);
        if (t == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        Py_ssize_t at = 0;
        for (Py_ssize_t i = g * per; i < (g + 1) * per; i++)
            for (Py_ssize_t j = 0; j < nc; j++) {
                PyObject *v = PyList_GET_ITEM(PyList_GET_ITEM(columns, j), i);
                Py_INCREF(v);
                PyTuple_SET_ITEM(t, at++, v);
            }
        PyList_SET_ITEM(out, g, t);
    }
    return out;
}

static PyMethodDef methods[] = {
    {"flat_rows", flat_rows, METH_VARARGS, "Rows of columns, per at a time, as flat tuples (see the source)."},
    {"row_hashes", row_hashes, METH_O, "hash(tuple(row)) of every row of columns, as int64 bytes."},
    {"uscc_all_valid", uscc_all_valid, METH_O, "Whether every code of a list is a valid USCC (see the source)."},
    {"json_columns", json_columns, METH_VARARGS, "JSON text of columns of str and None (see the source)."},
    {"parse_block", parse_block, METH_VARARGS, "The records of a CSV block as cleaned columns, or None (see the source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_csvx", "Registry CSV blocks, compiled.", -1, methods};

PyMODINIT_FUNC PyInit__csvx(void) {
    if (PyType_Ready(&KeyIndexType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&KeyIndexType);
    if (PyModule_AddObject(m, "KeyIndex", (PyObject *)&KeyIndexType) < 0) {
        Py_DECREF(&KeyIndexType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
