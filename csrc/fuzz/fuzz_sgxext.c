/* libFuzzer target for the Intel SGX PCK extension walk (scripts/native-checks.sh):
 *   clang -fsanitize=fuzzer,address,undefined -Icsrc csrc/fuzz/fuzz_sgxext.c csrc/cv_*.c
 * Without libFuzzer, csrc/fuzz/run_target.c drives it over a corpus. */
#include <stddef.h>
#include <stdint.h>

#include "check_sgxext.h" /* includes cv_api.h */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cv_sgxext_fields f;
    int rc = cv_sgxext_parse(data, size, &f);
    cv_check_sgxext(rc, &f, data, size);
    return 0;
}
