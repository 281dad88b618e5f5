/* libFuzzer target for the DCAP quote parser (scripts/native-checks.sh):
 *   clang -fsanitize=fuzzer,address,undefined -Icsrc csrc/fuzz/fuzz_dcap.c csrc/cv_*.c */
#include <stddef.h>
#include <stdint.h>

#include "check_fields.h" /* includes cv_api.h */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cv_quote_fields f;
    int rc = cv_dcap_parse(data, size, &f);
    cv_check_fields(rc, &f, size);
    return 0;
}
