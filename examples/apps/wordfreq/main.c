/* wordfreq - the most frequent words of a text file.
 *
 * A word is a run of ASCII letters and digits, lower-cased; every other byte (punctuation,
 * spaces, bytes of other alphabets, binary data) separates words. The file is read in chunks,
 * so its size does not matter; memory is capped: words longer than MAX_WORD characters are
 * only counted in "long_words", and once MAX_DISTINCT different words are known, the
 * occurrences of further new words are only counted in "untracked_words". At most: 16 MiB of
 * table, 32.5 MiB of words, 4 MiB to sort them.
 *
 * Params: {"input": a file name of the job (default: its first input), "top": 1..1000
 * (default 20)}.
 * Result: {"input", "bytes", "words", "distinct", "long_words", "untracked_words",
 * "top": [{"word", "count"}, ...]}, by count, most frequent first, ties in byte order.
 */
#include "deskgrid_app.h"

#define MAX_WORD 64
#define MAX_DISTINCT (1u << 19)
#define TABLE_SLOTS (1u << 20) /* a power of two, twice MAX_DISTINCT: probes stay short */
#define ARENA_MAX ((size_t)MAX_DISTINCT * (MAX_WORD + 1))
#define MAX_TOP 1000
#define DEFAULT_TOP 20
#define CHUNK (64 * 1024)

typedef struct {
    uint64_t count;
    uint32_t word; /* offset of the word in the arena, plus one; 0: an empty slot */
    uint32_t hash;
} slot;

typedef struct {
    slot *slots;
    char *arena; /* the words, NUL-terminated, one after the other */
    size_t arena_used, arena_cap;
    uint64_t distinct, words, long_words, untracked_words;
} counter;

static uint32_t fnv1a(const char *word, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)word[i]) * 16777619u;
    return h;
}

static void count_word(counter *c, const char *word, size_t len) {
    c->words++;
    uint32_t hash = fnv1a(word, len);
    uint32_t i = hash & (TABLE_SLOTS - 1);
    while (c->slots[i].word != 0) {
        slot *s = &c->slots[i];
        const char *known = c->arena + s->word - 1;
        if (s->hash == hash && strncmp(known, word, len) == 0 && known[len] == '\0') {
            s->count++;
            return;
        }
        i = (i + 1) & (TABLE_SLOTS - 1);
    }
    if (c->distinct == MAX_DISTINCT) {
        c->untracked_words++;
        return;
    }
    if (c->arena_cap - c->arena_used < len + 1) {
        size_t cap = c->arena_cap ? 2 * c->arena_cap : 1u << 20;
        if (cap > ARENA_MAX) cap = ARENA_MAX; /* room for MAX_DISTINCT words, no more */
        char *arena = realloc(c->arena, cap);
        if (arena == NULL) dg_fail(DG_EXIT_FAILED, "Out of memory for the words.");
        c->arena = arena;
        c->arena_cap = cap;
    }
    memcpy(c->arena + c->arena_used, word, len);
    c->arena[c->arena_used + len] = '\0';
    c->slots[i] = (slot){.count = 1, .word = (uint32_t)c->arena_used + 1, .hash = hash};
    c->arena_used += len + 1;
    c->distinct++;
}

static const char *sort_arena;

static int by_count_then_word(const void *a, const void *b) {
    const slot *x = *(const slot *const *)a, *y = *(const slot *const *)b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(sort_arena + x->word - 1, sort_arena + y->word - 1);
}

static int open_input(const char *name) {
    if (!dg_plain_file_name(name))
        dg_fail(DG_EXIT_BAD_PARAMS,
                "The parameter 'input' must be a plain file name (letters, digits, '.', '_', "
                "'-'), one of the job's input files.");
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dg_job_dir(), name) >= (int)sizeof path)
        dg_fail(DG_EXIT_FAILED, "The job folder's path is too long.");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK); /* no wait on a pipe */
    if (fd < 0 && errno == ENOENT)
        dg_fail(DG_EXIT_BAD_PARAMS, "The job has no input file called '%s': attach it.", name);
    if (fd < 0) dg_fail(DG_EXIT_FAILED, "Cannot open the input '%s': %s.", name, strerror(errno));
    return fd;
}

int main(void) {
    static const char *const known[] = {"input", "top", NULL};
    static dg_parser parser, inputs; /* static: they are large */
    dg_json *params = dg_params_load(&parser);
    dg_params_allow(params, known);
    uint64_t top = dg_param_uint(params, "top", 1, MAX_TOP, DEFAULT_TOP);
    char name[256];
    const char *given = dg_param_string(params, "input", NULL);
    if (given == NULL) {
        given = dg_first_input(&inputs);
        if (given == NULL)
            dg_fail(DG_EXIT_BAD_PARAMS,
                    "The job has no input file: attach a text file (and name it in 'input').");
    }
    snprintf(name, sizeof name, "%s", given);
    dg_json_free(&parser);
    dg_json_free(&inputs);

    int fd = open_input(name);
    struct stat info;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode))
        dg_fail(DG_EXIT_BAD_PARAMS, "The input '%s' is not a plain file.", name);
    uint64_t total = (uint64_t)info.st_size;

    counter c = {0};
    c.slots = calloc(TABLE_SLOTS, sizeof(slot));
    if (c.slots == NULL) dg_fail(DG_EXIT_FAILED, "Out of memory for the word table.");
    char *chunk = dg_alloc(CHUNK);
    char word[MAX_WORD];
    size_t len = 0;
    int too_long = 0;
    uint64_t bytes = 0;
    int shown = -1; /* the last whole percent printed */
    dg_progress(0.0, "bytes_read", 0);
    for (;;) {
        ssize_t n = read(fd, chunk, CHUNK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            dg_fail(DG_EXIT_FAILED, "Cannot read the input '%s': %s.", name, strerror(errno));
        for (ssize_t i = 0; i <= n; i++) {
            unsigned char ch = i < n ? (unsigned char)chunk[i] : ' '; /* n == 0: the end */
            int letter = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
            if (ch >= 'A' && ch <= 'Z') ch = (unsigned char)(ch - 'A' + 'a'), letter = 1;
            if (letter) {
                if (len < MAX_WORD) word[len++] = (char)ch;
                else too_long = 1;
                continue;
            }
            if (i == n && n > 0) break; /* a word may go on in the next chunk */
            if (too_long) c.long_words++, c.words++;
            else if (len > 0) count_word(&c, word, len);
            len = 0;
            too_long = 0;
        }
        if (n == 0) break;
        bytes += (uint64_t)n;
        int percent = total ? (int)(100.0 * (double)bytes / (double)total) : 100;
        if (percent > 100) percent = 100; /* a file that grew while read */
        if (percent > shown) {
            shown = percent;
            dg_progress(percent / 100.0, "bytes_read", bytes);
        }
    }
    close(fd);
    free(chunk);
    if (shown < 100) dg_progress(1.0, "bytes_read", bytes);

    slot **found = dg_alloc(c.distinct * sizeof(slot *));
    size_t k = 0;
    for (uint32_t i = 0; i < TABLE_SLOTS; i++)
        if (c.slots[i].word != 0) found[k++] = &c.slots[i];
    sort_arena = c.arena;
    qsort(found, k, sizeof(slot *), by_count_then_word);

    dg_buffer result = {0};
    dg_buffer_add(&result, "{\"input\": ", 10);
    dg_buffer_json_string(&result, name);
    dg_buffer_printf(&result,
                     ", \"bytes\": %llu, \"words\": %llu, \"distinct\": %llu, "
                     "\"long_words\": %llu, \"untracked_words\": %llu, \"top\": [",
                     (unsigned long long)bytes, (unsigned long long)c.words,
                     (unsigned long long)c.distinct, (unsigned long long)c.long_words,
                     (unsigned long long)c.untracked_words);
    for (size_t i = 0; i < k && i < top; i++)
        dg_buffer_printf(&result, "%s{\"word\": \"%s\", \"count\": %llu}", i ? ", " : "",
                         c.arena + found[i]->word - 1, (unsigned long long)found[i]->count);
    dg_buffer_add(&result, "]}\n", 3);
    dg_write_result(&result);
    free(result.data);
    free(found);
    free(c.arena);
    free(c.slots);
    return 0;
}
