/* libFuzzer target for the SEV-SNP report parser (scripts/native-checks.sh):
 *   clang -fsanitize=fuzzer,address,undefined -Icsrc csrc/fuzz/fuzz_snp.c csrc/cv_*.c
 * Without libFuzzer, csrc/fuzz/run_target.c drives it over a corpus. */
#include <stddef.h>
#include <stdint.h>

#include "check_snp.h" /* includes cv_api.h */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cv_snp_fields f;
    int rc = cv_snp_parse(data, size, &f);
    cv_check_snp(rc, &f, data, size);
    return 0;
}
