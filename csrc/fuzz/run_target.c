/* Corpus driver for a libFuzzer target in sanitizer builds without libFuzzer
 * (scripts/native-checks.sh): link it with one fuzz_*.c file, then
 *   run_target [-n MUTATIONS_PER_FILE] [-s SEED] FILE...
 * Runs the target on each file, then on MUTATIONS_PER_FILE copies of it with 1-4 edits: a
 * byte overwritten, a bit flipped, a byte inserted or deleted (DER lengths shift), or the
 * buffer truncated (a fixed xorshift PRNG: runs are reproducible). Every copy is
 * heap-allocated at its exact size, so ASan sees any read past the end. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

static void run_exact(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL) {
        abort();
    }
    if (size) {
        memcpy(copy, data, size);
    }
    LLVMFuzzerTestOneInput(copy, size);
    free(copy);
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
        n += fread(buf + n, 1, cap - n, fh);
        if (n < cap) {
            break;
        }
        cap *= 2;
        uint8_t *grown = realloc(buf, cap);
        if (grown == NULL) {
            free(buf);
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
    unsigned long files = 0, runs = 0;
    for (int i = first; i < argc; i++) {
        size_t size = 0;
        uint8_t *data = read_file(argv[i], &size);
        if (data == NULL) {
            fprintf(stderr, "run_target: cannot read %s\n", argv[i]);
            return 2;
        }
        files++;
        run_exact(data, size);
        runs++;
        uint8_t *work = malloc(size + 8);
        if (work == NULL) {
            abort();
        }
        for (long m = 0; m < per_file && size > 0; m++) {
            memcpy(work, data, size);
            size_t len = size;
            int edits = 1 + (int)(rng() % 4);
            for (int e = 0; e < edits && len > 0; e++) {
                size_t at = (size_t)(rng() % len);
                switch (rng() % 5) {
                case 0:
                    work[at] = (uint8_t)rng();
                    break;
                case 1:
                    work[at] ^= (uint8_t)(1u << (rng() % 8));
                    break;
                case 2:
                    if (len < size + 8) {
                        memmove(work + at + 1, work + at, len - at);
                        work[at] = (uint8_t)rng();
                        len++;
                    }
                    break;
                case 3:
                    memmove(work + at, work + at + 1, len - at - 1);
                    len--;
                    break;
                default:
                    len = at;
                }
            }
            run_exact(work, len);
            runs++;
        }
        free(work);
        free(data);
    }
    printf("run_target: %lu files, %lu runs, no sanitizer finding\n", files, runs);
    return 0;
}
