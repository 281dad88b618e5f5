/* Corpus driver for sanitizer builds without libFuzzer (scripts/native-checks.sh):
 *   run_corpus [-n MUTATIONS_PER_FILE] [-s SEED] FILE...
 * Parses each file, then MUTATIONS_PER_FILE copies of it with 1-4 bytes overwritten,
 * XOR-flipped or the buffer truncated (a fixed xorshift PRNG: runs are reproducible).
 * Every copy is heap-allocated at its exact size, so ASan sees any read past the end. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_fields.h" /* includes cv_api.h */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static int parse_one(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL) {
        abort();
    }
    if (size) {
        memcpy(copy, data, size);
    }
    cv_quote_fields f;
    int rc = cv_dcap_parse(copy, size, &f);
    cv_check_fields(rc, &f, size);
    free(copy);
    return rc;
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *fh = fopen(path, "rb");
    if (fh == NULL) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, fh);
        n += got;
        if (n < cap) {
            break;
        }
        cap *= 2;
        uint8_t *grown = realloc(buf, cap);
        if (grown == NULL) {
            free(buf);
            buf = NULL;
        }
        buf = grown;
    }
    fclose(fh);
    *size = n;
    return buf;
}

int main(int argc, char **argv)
{
    long per_file = 500;
    int first = 1;
    while (first + 1 < argc && argv[first][0] == '-') {
        if (strcmp(argv[first], "-n") == 0) {
            per_file = strtol(argv[first + 1], NULL, 10);
        } else if (strcmp(argv[first], "-s") == 0) {
            rng_state = strtoull(argv[first + 1], NULL, 10) | 1;
        } else {
            break;
        }
        first += 2;
    }
    unsigned long files = 0, parses = 0, ok = 0;
    for (int i = first; i < argc; i++) {
        size_t size = 0;
        uint8_t *data = read_file(argv[i], &size);
        if (data == NULL) {
            fprintf(stderr, "run_corpus: cannot read %s\n", argv[i]);
            return 2;
        }
        files++;
        ok += parse_one(data, size) == CV_OK;
        parses++;
        uint8_t *work = malloc(size ? size : 1);
        for (long m = 0; m < per_file && size > 0; m++) {
            memcpy(work, data, size);
            size_t len = size;
            int edits = 1 + (int)(rng() % 4);
            for (int e = 0; e < edits; e++) {
                size_t at = (size_t)(rng() % size);
                switch (rng() % 3) {
                case 0:
                    work[at] = (uint8_t)rng();
                    break;
                case 1:
                    work[at] ^= (uint8_t)(1u << (rng() % 8));
                    break;
                default:
                    len = at < len ? at : len;
                }
            }
            ok += parse_one(work, len) == CV_OK;
            parses++;
        }
        free(work);
        free(data);
    }
    printf("run_corpus: %lu files, %lu parses, %lu accepted, no sanitizer finding\n", files,
           parses, ok);
    return 0;
}
