/* deskgrid_app.h - the DeskGrid image contract for apps written in C, in one header.
 *
 * What it covers (see docs/developer.md):
 *   - reading the job's params (DESKGRID_PARAMS, else /job/params.json) with a strict,
 *     bounded JSON parser, and checking each parameter with a clear message;
 *   - the job's input file names (DESKGRID_INPUTS, a JSON list of names in DESKGRID_JOB_DIR);
 *   - progress lines on standard output: {"progress": 0.42, "figure": 123};
 *   - building the result in memory and writing it to DESKGRID_RESULT (else /job/result).
 *
 * Every failure prints one sentence on standard error and exits non-zero: the worker shows the
 * last line of standard error as the job's error message. Exit codes: DG_EXIT_BAD_PARAMS (2)
 * for params or inputs the app refuses, DG_EXIT_FAILED (1) for anything else.
 *
 * Everything is `static inline`: include the header in one .c file; nothing to link.
 */
#ifndef DESKGRID_APP_H
#define DESKGRID_APP_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DG_EXIT_FAILED 1
#define DG_EXIT_BAD_PARAMS 2

#define DG_JSON_MAX_BYTES (64 * 1024) /* params.json and DESKGRID_INPUTS */
#define DG_JSON_MAX_NODES 2048
#define DG_JSON_MAX_DEPTH 16

/* ---- failing with a sentence ---------------------------------------------------------- */

static inline void dg_fail(int code, const char *format, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

static inline void dg_fail(int code, const char *format, ...) {
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    for (char *c = message; *c; c++) /* one line: the worker shows the last line */
        if (*c == '\n' || *c == '\r') *c = ' ';
    fprintf(stderr, "%s\n", message);
    fflush(stderr);
    exit(code);
}

/* A copy of `text` (at most `len` bytes) fit to quote in a message: printable ASCII only,
 * shortened to 40 characters. */
static inline const char *dg_printable(const char *text, size_t len, char out[48]) {
    size_t n = 0;
    for (size_t i = 0; i < len && n < 40; i++) {
        unsigned char c = (unsigned char)text[i];
        out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (len > 40) {
        out[n++] = '.';
        out[n++] = '.';
        out[n++] = '.';
    }
    out[n] = '\0';
    return out;
}

static inline void *dg_alloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (p == NULL) dg_fail(DG_EXIT_FAILED, "Out of memory (%zu bytes more were needed).", size);
    return p;
}

/* ---- JSON ------------------------------------------------------------------------------ */

typedef enum { DG_NULL, DG_FALSE, DG_TRUE, DG_NUMBER, DG_STRING, DG_ARRAY, DG_OBJECT } dg_type;

typedef struct dg_json {
    dg_type type;
    const char *key; /* the member's name inside an object, else NULL */
    size_t key_len;
    const char *text; /* a string's decoded text or a number's literal (NUL-terminated) */
    size_t len;
    struct dg_json *child; /* first element or member */
    struct dg_json *next;  /* next sibling */
} dg_json;

typedef struct {
    const char *src;
    size_t size, pos;
    char *out; /* decoded strings and number literals */
    size_t out_used, out_cap;
    dg_json nodes[DG_JSON_MAX_NODES];
    size_t nodes_used;
    char error[160];
} dg_parser;

static inline int dg_json_error(dg_parser *p, const char *what) {
    snprintf(p->error, sizeof p->error, "%s at byte %zu", what, p->pos + 1);
    return 0;
}

static inline dg_json *dg_json_node(dg_parser *p, dg_type type) {
    if (p->nodes_used == DG_JSON_MAX_NODES) {
        dg_json_error(p, "more than 2048 values");
        return NULL;
    }
    dg_json *node = &p->nodes[p->nodes_used++];
    memset(node, 0, sizeof *node);
    node->type = type;
    return node;
}

static inline void dg_json_space(dg_parser *p) {
    while (p->pos < p->size) {
        char c = p->src[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static inline int dg_json_put(dg_parser *p, uint32_t code_point) {
    char bytes[4];
    size_t n;
    if (code_point < 0x80) {
        bytes[0] = (char)code_point;
        n = 1;
    } else if (code_point < 0x800) {
        bytes[0] = (char)(0xc0 | (code_point >> 6));
        bytes[1] = (char)(0x80 | (code_point & 0x3f));
        n = 2;
    } else if (code_point < 0x10000) {
        bytes[0] = (char)(0xe0 | (code_point >> 12));
        bytes[1] = (char)(0x80 | ((code_point >> 6) & 0x3f));
        bytes[2] = (char)(0x80 | (code_point & 0x3f));
        n = 3;
    } else {
        bytes[0] = (char)(0xf0 | (code_point >> 18));
        bytes[1] = (char)(0x80 | ((code_point >> 12) & 0x3f));
        bytes[2] = (char)(0x80 | ((code_point >> 6) & 0x3f));
        bytes[3] = (char)(0x80 | (code_point & 0x3f));
        n = 4;
    }
    if (p->out_used + n >= p->out_cap) return dg_json_error(p, "strings too long");
    memcpy(p->out + p->out_used, bytes, n);
    p->out_used += n;
    return 1;
}

static inline int dg_json_hex4(dg_parser *p, uint32_t *value) {
    *value = 0;
    for (int i = 0; i < 4; i++, p->pos++) {
        if (p->pos >= p->size) return dg_json_error(p, "an unfinished \\u escape");
        char c = p->src[p->pos];
        uint32_t digit;
        if (c >= '0' && c <= '9') digit = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') digit = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') digit = (uint32_t)(c - 'A' + 10);
        else return dg_json_error(p, "a bad \\u escape");
        *value = *value * 16 + digit;
    }
    return 1;
}

/* The length of the UTF-8 sequence at s (at most `left` bytes), 0 when it is not valid. */
static inline size_t dg_utf8_length(const unsigned char *s, size_t left) {
    uint32_t cp;
    size_t n;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xe0) == 0xc0) n = 2, cp = s[0] & 0x1f;
    else if ((s[0] & 0xf0) == 0xe0) n = 3, cp = s[0] & 0x0f;
    else if ((s[0] & 0xf8) == 0xf0) n = 4, cp = s[0] & 0x07;
    else return 0;
    if (n > left) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const uint32_t smallest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < smallest[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

/* Decodes the string at p->pos (on its opening quote) into p->out. */
static inline int dg_json_string(dg_parser *p, const char **text, size_t *len) {
    p->pos++; /* the opening quote */
    size_t start = p->out_used;
    for (;;) {
        if (p->pos >= p->size) return dg_json_error(p, "an unfinished string");
        unsigned char c = (unsigned char)p->src[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) return dg_json_error(p, "a control character in a string");
        if (c != '\\') {
            size_t n = dg_utf8_length((const unsigned char *)p->src + p->pos, p->size - p->pos);
            if (n == 0) return dg_json_error(p, "text that is not UTF-8");
            if (p->out_used + n >= p->out_cap) return dg_json_error(p, "strings too long");
            memcpy(p->out + p->out_used, p->src + p->pos, n);
            p->out_used += n;
            p->pos += n;
            continue;
        }
        if (++p->pos >= p->size) return dg_json_error(p, "an unfinished string");
        char e = p->src[p->pos++];
        uint32_t cp;
        switch (e) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (!dg_json_hex4(p, &cp)) return 0;
            if (cp >= 0xdc00 && cp <= 0xdfff) return dg_json_error(p, "a lone low surrogate");
            if (cp >= 0xd800 && cp <= 0xdbff) {
                uint32_t low;
                if (p->pos + 2 > p->size || p->src[p->pos] != '\\' || p->src[p->pos + 1] != 'u')
                    return dg_json_error(p, "a lone high surrogate");
                p->pos += 2;
                if (!dg_json_hex4(p, &low)) return 0;
                if (low < 0xdc00 || low > 0xdfff) return dg_json_error(p, "a lone high surrogate");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            }
            if (cp == 0) return dg_json_error(p, "a NUL character in a string");
            break;
        default:
            p->pos--;
            return dg_json_error(p, "an unknown escape");
        }
        if (!dg_json_put(p, cp)) return 0;
    }
    p->out[p->out_used++] = '\0';
    *text = p->out + start;
    *len = p->out_used - start - 1;
    return 1;
}

static inline int dg_json_digits(dg_parser *p) {
    size_t start = p->pos;
    while (p->pos < p->size && p->src[p->pos] >= '0' && p->src[p->pos] <= '9') p->pos++;
    return p->pos > start;
}

static inline dg_json *dg_json_number(dg_parser *p) {
    size_t start = p->pos;
    if (p->src[p->pos] == '-') p->pos++;
    if (p->pos < p->size && p->src[p->pos] == '0') p->pos++;
    else if (!dg_json_digits(p)) return dg_json_error(p, "a bad number"), NULL;
    if (p->pos < p->size && p->src[p->pos] == '.') {
        p->pos++;
        if (!dg_json_digits(p)) return dg_json_error(p, "a bad number"), NULL;
    }
    if (p->pos < p->size && (p->src[p->pos] == 'e' || p->src[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->size && (p->src[p->pos] == '+' || p->src[p->pos] == '-')) p->pos++;
        if (!dg_json_digits(p)) return dg_json_error(p, "a bad number"), NULL;
    }
    size_t len = p->pos - start;
    if (p->out_used + len + 1 > p->out_cap) return dg_json_error(p, "numbers too long"), NULL;
    dg_json *node = dg_json_node(p, DG_NUMBER);
    if (node == NULL) return NULL;
    memcpy(p->out + p->out_used, p->src + start, len);
    p->out[p->out_used + len] = '\0';
    node->text = p->out + p->out_used;
    node->len = len;
    p->out_used += len + 1;
    return node;
}

static inline dg_json *dg_json_value(dg_parser *p, int depth);

static inline dg_json *dg_json_container(dg_parser *p, int depth, int object) {
    char close = object ? '}' : ']';
    dg_json *node = dg_json_node(p, object ? DG_OBJECT : DG_ARRAY);
    if (node == NULL) return NULL;
    if (depth >= DG_JSON_MAX_DEPTH) return dg_json_error(p, "values nested too deep"), NULL;
    p->pos++;
    dg_json_space(p);
    if (p->pos < p->size && p->src[p->pos] == close) {
        p->pos++;
        return node;
    }
    dg_json **tail = &node->child;
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        if (object) {
            if (p->pos >= p->size || p->src[p->pos] != '"')
                return dg_json_error(p, "a member name expected"), NULL;
            if (!dg_json_string(p, &key, &key_len)) return NULL;
            for (dg_json *m = node->child; m != NULL; m = m->next)
                if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
                    return dg_json_error(p, "a member named twice"), NULL;
            dg_json_space(p);
            if (p->pos >= p->size || p->src[p->pos] != ':')
                return dg_json_error(p, "':' expected"), NULL;
            p->pos++;
        }
        dg_json *item = dg_json_value(p, depth + 1);
        if (item == NULL) return NULL;
        item->key = key;
        item->key_len = key_len;
        *tail = item;
        tail = &item->next;
        dg_json_space(p);
        if (p->pos < p->size && p->src[p->pos] == ',') {
            p->pos++;
            dg_json_space(p);
            continue;
        }
        if (p->pos < p->size && p->src[p->pos] == close) {
            p->pos++;
            return node;
        }
        return dg_json_error(p, object ? "',' or '}' expected" : "',' or ']' expected"), NULL;
    }
}

static inline dg_json *dg_json_literal(dg_parser *p, const char *word, dg_type type) {
    size_t n = strlen(word);
    if (p->size - p->pos < n || memcmp(p->src + p->pos, word, n) != 0)
        return dg_json_error(p, "an unexpected character"), NULL;
    p->pos += n;
    return dg_json_node(p, type);
}

static inline dg_json *dg_json_value(dg_parser *p, int depth) {
    dg_json_space(p);
    if (p->pos >= p->size) return dg_json_error(p, "a value expected"), NULL;
    char c = p->src[p->pos];
    if (c == '{' || c == '[') return dg_json_container(p, depth, c == '{');
    if (c == '"') {
        dg_json *node = dg_json_node(p, DG_STRING);
        if (node == NULL || !dg_json_string(p, &node->text, &node->len)) return NULL;
        return node;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return dg_json_number(p);
    if (c == 't') return dg_json_literal(p, "true", DG_TRUE);
    if (c == 'f') return dg_json_literal(p, "false", DG_FALSE);
    if (c == 'n') return dg_json_literal(p, "null", DG_NULL);
    return dg_json_error(p, "an unexpected character"), NULL;
}

/* Parses `size` bytes of JSON (one value, nothing after it); NULL with p->error if invalid.
 * The values live in the parser until dg_json_free. */
static inline dg_json *dg_json_parse(dg_parser *p, const char *src, size_t size) {
    memset(p, 0, sizeof *p);
    if (size > DG_JSON_MAX_BYTES) {
        snprintf(p->error, sizeof p->error, "larger than %d bytes", DG_JSON_MAX_BYTES);
        return NULL;
    }
    p->src = src;
    p->size = size;
    p->out_cap = 2 * size + 16;
    p->out = dg_alloc(p->out_cap);
    dg_json *root = dg_json_value(p, 0);
    if (root == NULL) return NULL;
    dg_json_space(p);
    if (p->pos != p->size) return dg_json_error(p, "text after the value"), NULL;
    return root;
}

static inline void dg_json_free(dg_parser *p) {
    free(p->out);
    p->out = NULL;
}

static inline dg_json *dg_json_member(const dg_json *object, const char *key) {
    size_t n = strlen(key);
    for (dg_json *m = object->child; m != NULL; m = m->next)
        if (m->key_len == n && memcmp(m->key, key, n) == 0) return m;
    return NULL;
}

static inline const char *dg_json_type_name(dg_type type) {
    static const char *const names[] = {"null",   "false", "true",  "a number",
                                        "a text", "a list", "an object"};
    return names[type];
}

/* ---- the job's folder, params and inputs ------------------------------------------------ */

static inline const char *dg_env(const char *name, const char *fallback) {
    const char *value = getenv(name);
    return (value != NULL && *value != '\0') ? value : fallback;
}

static inline const char *dg_job_dir(void) { return dg_env("DESKGRID_JOB_DIR", "/job"); }

/* Reads a whole file of at most `limit` bytes; fails with a sentence naming `what` (e.g.
 * "params file"). */
static inline char *dg_read_small_file(const char *path, size_t limit, const char *what,
                                       size_t *size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* no wait on a pipe */
    if (fd < 0) dg_fail(DG_EXIT_FAILED, "Cannot open the %s: %s.", what, strerror(errno));
    struct stat info;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode))
        dg_fail(DG_EXIT_FAILED, "The %s is not a plain file.", what);
    if ((uint64_t)info.st_size > limit)
        dg_fail(DG_EXIT_BAD_PARAMS, "The %s is larger than %zu bytes.", what, limit);
    char *data = dg_alloc(limit + 1);
    size_t used = 0;
    for (;;) {
        ssize_t n = read(fd, data + used, limit + 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) dg_fail(DG_EXIT_FAILED, "Cannot read the %s: %s.", what, strerror(errno));
        if (n == 0) break;
        used += (size_t)n;
        if (used > limit)
            dg_fail(DG_EXIT_BAD_PARAMS, "The %s is larger than %zu bytes.", what, limit);
    }
    close(fd);
    *size = used;
    return data;
}

/* The job's params: an object, else the run fails with DG_EXIT_BAD_PARAMS. `p` keeps them. */
static inline dg_json *dg_params_load(dg_parser *p) {
    char fallback[4096];
    snprintf(fallback, sizeof fallback, "%s/params.json", dg_job_dir());
    size_t size;
    char *text = dg_read_small_file(dg_env("DESKGRID_PARAMS", fallback), DG_JSON_MAX_BYTES,
                                    "params file", &size);
    dg_json *params = dg_json_parse(p, text, size);
    if (params == NULL) dg_fail(DG_EXIT_BAD_PARAMS, "The params are not valid JSON: %s.", p->error);
    if (params->type != DG_OBJECT)
        dg_fail(DG_EXIT_BAD_PARAMS, "The params must be a JSON object, not %s.",
                dg_json_type_name(params->type));
    free(text); /* the values hold copies of their text */
    return params;
}

/* Fails when the params have a member not in `known` (a NULL-terminated list). */
static inline void dg_params_allow(const dg_json *params, const char *const *known) {
    for (const dg_json *m = params->child; m != NULL; m = m->next) {
        int found = 0;
        for (const char *const *k = known; *k != NULL && !found; k++)
            found = strlen(*k) == m->key_len && memcmp(*k, m->key, m->key_len) == 0;
        if (!found) {
            char names[256] = "", quoted[48];
            for (const char *const *k = known; *k != NULL; k++) {
                strncat(names, k == known ? "" : ", ", sizeof names - strlen(names) - 1);
                strncat(names, *k, sizeof names - strlen(names) - 1);
            }
            dg_fail(DG_EXIT_BAD_PARAMS, "The params have no parameter '%s' (this app knows: %s).",
                    dg_printable(m->key, m->key_len, quoted), names);
        }
    }
}

/* The value of a JSON number literal when it is a whole number (1, 1.0, 1e6, 2.50e1, -0)
 * that fits in 64 bits; 0 otherwise. Decided exactly, as JSON Schema's "integer" does. */
static inline int dg_whole_number(const char *text, uint64_t *value) {
    char digits[32];
    size_t n = 0, dropped = 0; /* significant digits, and integer digits beyond those kept */
    long exponent = 0;         /* of the last digit kept */
    int negative = *text == '-', nonzero = 0;
    const char *c = text + negative;
    for (int fraction = 0; (*c >= '0' && *c <= '9') || (*c == '.' && !fraction); c++) {
        if (*c == '.') {
            fraction = 1;
            continue;
        }
        if (*c != '0' || nonzero) {
            nonzero = 1;
            if (n == sizeof digits) {
                if (*c != '0') return 0; /* more than 32 significant digits: not whole */
                dropped += !fraction;    /* a zero of the integer part: ten times more */
                continue;                /* a zero of the fraction: nothing */
            }
            digits[n++] = *c;
        }
        exponent -= fraction;
    }
    exponent += (long)dropped;
    if (*c == 'e' || *c == 'E') {
        c++;
        int minus = *c == '-';
        c += (*c == '-' || *c == '+');
        long e = 0;
        for (; *c >= '0' && *c <= '9'; c++)
            if (e < 100000) e = e * 10 + (*c - '0');
        exponent += minus ? -e : e;
    }
    while (n > 0 && digits[n - 1] == '0' && exponent < 0) n--, exponent++;
    if (n == 0) return *value = 0, 1; /* zero, -0 included */
    if (negative || exponent < 0 || (long)n + exponent > 20) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n + (size_t)exponent; i++) {
        unsigned d = i < n ? (unsigned)(digits[i] - '0') : 0;
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *value = v;
    return 1;
}

/* The whole number `key` in [min, max], or `fallback` when the params do not name it. */
static inline uint64_t dg_param_uint(const dg_json *params, const char *key, uint64_t min,
                                     uint64_t max, uint64_t fallback) {
    const dg_json *v = dg_json_member(params, key);
    if (v == NULL) return fallback;
    char shown[48];
    if (v->type != DG_NUMBER)
        dg_fail(DG_EXIT_BAD_PARAMS,
                "The parameter '%s' must be a whole number from %llu to %llu, not %s.", key,
                (unsigned long long)min, (unsigned long long)max, dg_json_type_name(v->type));
    uint64_t value = 0;
    if (!dg_whole_number(v->text, &value) || value < min || value > max)
        dg_fail(DG_EXIT_BAD_PARAMS,
                "The parameter '%s' must be a whole number from %llu to %llu; it is %s.", key,
                (unsigned long long)min, (unsigned long long)max,
                dg_printable(v->text, v->len, shown));
    return value;
}

/* The text `key`, or `fallback` when the params do not name it. */
static inline const char *dg_param_string(const dg_json *params, const char *key,
                                          const char *fallback) {
    const dg_json *v = dg_json_member(params, key);
    if (v == NULL) return fallback;
    if (v->type != DG_STRING)
        dg_fail(DG_EXIT_BAD_PARAMS, "The parameter '%s' must be a text, not %s.", key,
                dg_json_type_name(v->type));
    return v->text;
}

/* The first of the job's input file names (DESKGRID_INPUTS), or NULL when it has none. */
static inline const char *dg_first_input(dg_parser *p) {
    const char *list = dg_env("DESKGRID_INPUTS", "[]");
    dg_json *names = dg_json_parse(p, list, strlen(list));
    if (names == NULL || names->type != DG_ARRAY)
        dg_fail(DG_EXIT_FAILED, "DESKGRID_INPUTS is not a JSON list of names.");
    if (names->child == NULL) return NULL;
    if (names->child->type != DG_STRING)
        dg_fail(DG_EXIT_FAILED, "DESKGRID_INPUTS is not a JSON list of names.");
    return names->child->text;
}

/* True when `name` is a plain file name as the worker allows for inputs. */
static inline int dg_plain_file_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 128) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return 0;
    }
    return 1;
}

/* ---- progress ------------------------------------------------------------------------- */

/* Prints a progress line; `figure` (may be NULL) names one more number to show. */
static inline void dg_progress(double fraction, const char *figure, uint64_t value) {
    int n = figure != NULL
                ? printf("{\"progress\": %.4f, \"%s\": %llu}\n", fraction, figure,
                         (unsigned long long)value)
                : printf("{\"progress\": %.4f}\n", fraction);
    if (n < 0 || fflush(stdout) != 0)
        dg_fail(DG_EXIT_FAILED, "Cannot print progress: %s.", strerror(errno));
}

/* ---- the result ------------------------------------------------------------------------ */

typedef struct {
    char *data;
    size_t used, cap;
} dg_buffer;

static inline void dg_buffer_reserve(dg_buffer *b, size_t more) {
    if (more <= b->cap - b->used) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->used < more) {
        if (cap > SIZE_MAX / 2) dg_fail(DG_EXIT_FAILED, "The result is too large.");
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (data == NULL) dg_fail(DG_EXIT_FAILED, "Out of memory for the result.");
    b->data = data;
    b->cap = cap;
}

static inline void dg_buffer_add(dg_buffer *b, const char *text, size_t len) {
    dg_buffer_reserve(b, len + 1);
    memcpy(b->data + b->used, text, len);
    b->used += len;
    b->data[b->used] = '\0';
}

static inline void dg_buffer_printf(dg_buffer *b, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static inline void dg_buffer_printf(dg_buffer *b, const char *format, ...) {
    va_list args;
    va_start(args, format);
    int n = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (n < 0) dg_fail(DG_EXIT_FAILED, "Cannot format the result.");
    dg_buffer_reserve(b, (size_t)n + 1);
    va_start(args, format);
    vsnprintf(b->data + b->used, (size_t)n + 1, format, args);
    va_end(args);
    b->used += (size_t)n;
}

/* Appends `text` as a JSON string (quoted and escaped). */
static inline void dg_buffer_json_string(dg_buffer *b, const char *text) {
    dg_buffer_add(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\') {
            char escaped[2] = {'\\', (char)*c};
            dg_buffer_add(b, escaped, 2);
        } else if (*c < 0x20) {
            dg_buffer_printf(b, "\\u%04x", *c);
        } else {
            dg_buffer_add(b, (const char *)c, 1);
        }
    }
    dg_buffer_add(b, "\"", 1);
}

/* Writes the result file (DESKGRID_RESULT, else <job dir>/result). */
static inline void dg_write_result(const dg_buffer *b) {
    char fallback[4096];
    snprintf(fallback, sizeof fallback, "%s/result", dg_job_dir());
    const char *path = dg_env("DESKGRID_RESULT", fallback);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) dg_fail(DG_EXIT_FAILED, "Cannot create the result file: %s.", strerror(errno));
    size_t done = 0;
    while (done < b->used) {
        ssize_t n = write(fd, b->data + done, b->used - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) dg_fail(DG_EXIT_FAILED, "Cannot write the result file: %s.", strerror(errno));
        done += (size_t)n;
    }
    if (close(fd) != 0)
        dg_fail(DG_EXIT_FAILED, "Cannot write the result file: %s.", strerror(errno));
}

#endif /* DESKGRID_APP_H */
