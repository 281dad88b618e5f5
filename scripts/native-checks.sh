#!/usr/bin/env bash
# Sanitizer and fuzz checks of the native core (docs/native.md "Fuzzing and sanitizers").
#  1. Builds csrc/ standalone with -fsanitize=address,undefined -fno-sanitize-recover=all
#     (linked with libcrypto) and runs csrc/fuzz/run_corpus.c over every quote in
#     vectors/intel/quotes/ and the real ones in ../shared/vectors/intel/ (decoded from
#     hex/base64), plus random mutations; then the signature path (cv_dcap_parse_verify,
#     cv_ecdsa_verify: csrc/fuzz/fuzz_dcap_verify.c driven by csrc/fuzz/run_target.c) over
#     the same quotes plus NATIVE_VERIFY_MUTATIONS mutations each.
#  2. When clang with libFuzzer is available, runs fuzz_dcap.c and fuzz_dcap_verify.c for
#     NATIVE_FUZZ_SECONDS/2 each (default 60 in all; 0 skips them).
# A libFuzzer crash/hang input is kept in tests/fuzz/regressions/native-<target>/ (replayed by
# tests/fuzz/test_regressions.py, and as seeds of the corpus runs here).
# Skips (exit 0) with a message when no C compiler, or no libcrypto >= 3.0 headers
# (Debian: libssl-dev, which scripts/test.sh installs), is available. Uses .venv/bin/python
# (or python3) only to decode the real quotes and extract seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
MUTATIONS=${NATIVE_MUTATIONS:-2000}        # per corpus file
VERIFY_MUTATIONS=${NATIVE_VERIFY_MUTATIONS:-100}  # per quote, through the signature path
FUZZ_SECONDS=${NATIVE_FUZZ_SECONDS:-60}
SHARED=${COCOVERIFY_SHARED_VECTORS:-../shared/vectors}
CC_SAN=${CC:-}
if [ -z "$CC_SAN" ]; then
  for c in clang gcc cc; do
    if command -v "$c" >/dev/null 2>&1; then CC_SAN=$c; break; fi
  done
fi
if [ -z "$CC_SAN" ]; then
  echo "native-checks: SKIPPED, no C compiler (install gcc or clang)"
  exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SRC="csrc/cv_reader.c csrc/cv_dcap.c csrc/cv_crypto.c"
FLAGS="-std=c11 -Wall -Wextra -Werror -g -O1 -UNDEBUG -Icsrc"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
CRYPTO=$(pkg-config --cflags --libs "libcrypto >= 3.0" 2>/dev/null || echo "-lcrypto")
if ! printf '#include <openssl/evp.h>\nint main(void){return OPENSSL_VERSION_MAJOR < 3;}\n' \
    | "$CC_SAN" -x c - $CRYPTO -o "$TMP/probe_crypto" >/dev/null 2>&1 || ! "$TMP/probe_crypto"; then
  echo "native-checks: SKIPPED, no libcrypto >= 3.0 headers (Debian: apt-get install libssl-dev)"
  exit 0
fi
SAN_ENV=(env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
LIBFUZZER=0
if command -v clang >/dev/null 2>&1 && echo \
    'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){(void)d;(void)n;return 0;}' \
    | clang -x c -fsanitize=fuzzer - -o "$TMP/probe" >/dev/null 2>&1; then
  LIBFUZZER=1
fi

# seed corpus: project vectors plus the decoded real quotes (never copied into the project)
mkdir -p "$TMP/seeds"
cp vectors/intel/quotes/*.bin vectors/sample/*/quote.bin "$TMP/seeds/" 2>/dev/null || true
PY=.venv/bin/python; [ -x "$PY" ] || PY=python3
if [ -f "$SHARED/intel/MANIFEST.json" ]; then
  "$PY" - "$SHARED/intel" "$TMP/seeds" <<'PYEOF' || echo "native-checks: real quotes not decoded"
import base64, binascii, json, sys
from pathlib import Path
base, out = Path(sys.argv[1]), Path(sys.argv[2])
for case in json.loads((base / "MANIFEST.json").read_text())["cases"]:
    raw = (base / case["id"] / case["files"]["quote"]).read_bytes()
    text = raw.strip()
    try:
        if text[:2] in (b"0x", b"0X"):
            text = text[2:]
        raw = binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        try:
            raw = base64.b64decode(text, validate=True) if text.isascii() else raw
        except (binascii.Error, ValueError):
            pass
    (out / f"real-{case['id']}.bin").write_bytes(raw)
PYEOF
else
  echo "native-checks: $SHARED/intel absent, project vectors only"
fi
# inputs a libFuzzer run kept (tests/fuzz/regressions/native-fuzz_dcap*/) replay as seeds
for f in tests/fuzz/regressions/native-fuzz_dcap*/*; do
  [ -f "$f" ] && cp "$f" "$TMP/seeds/regression-$(basename "$f")"
done
NSEEDS=$(ls "$TMP/seeds" | wc -l)

echo "native-checks: [1] $CC_SAN ASan+UBSan build, $NSEEDS seeds x $MUTATIONS mutations"
# shellcheck disable=SC2086
"$CC_SAN" $FLAGS $SAN csrc/fuzz/run_corpus.c $SRC $CRYPTO -o "$TMP/run_corpus"
"${SAN_ENV[@]}" "$TMP/run_corpus" -n "$MUTATIONS" "$TMP"/seeds/*
echo "native-checks: [1] signature path, $NSEEDS seeds x $VERIFY_MUTATIONS mutations"
# shellcheck disable=SC2086
"$CC_SAN" $FLAGS $SAN csrc/fuzz/run_target.c csrc/fuzz/fuzz_dcap_verify.c $SRC $CRYPTO \
  -o "$TMP/run_dcap_verify"
"${SAN_ENV[@]}" "$TMP/run_dcap_verify" -n "$VERIFY_MUTATIONS" "$TMP"/seeds/*

if [ "$FUZZ_SECONDS" = 0 ]; then
  echo "native-checks: [2] libFuzzer SKIPPED (NATIVE_FUZZ_SECONDS=0)"
elif ! command -v clang >/dev/null 2>&1; then
  echo "native-checks: [2] libFuzzer SKIPPED, clang not installed (apt-get install clang)"
elif [ "$LIBFUZZER" = 0 ]; then
  echo "native-checks: [2] libFuzzer SKIPPED, clang has no libFuzzer runtime"
else
  for target in fuzz_dcap fuzz_dcap_verify; do
    echo "native-checks: [2] libFuzzer $target for $((FUZZ_SECONDS / 2))s"
    # shellcheck disable=SC2086
    clang $FLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
      "csrc/fuzz/$target.c" $SRC $CRYPTO -o "$TMP/$target"
    mkdir -p "$TMP/corpus_$target"
    mkdir -p "tests/fuzz/regressions/native-$target"
    (cd "$TMP" && "./$target" -max_total_time=$((FUZZ_SECONDS / 2)) -max_len=16384 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$REPO/tests/fuzz/regressions/native-$target/" \
        "corpus_$target" seeds 2>"$target.log") \
      || { tail -60 "$TMP/$target.log"; exit 1; }
    grep -E "^(stat::number_of_executed_units|Done)" "$TMP/$target.log" \
      || tail -3 "$TMP/$target.log"
  done
fi

# --- SEV-SNP reports and the SGX PCK extension (cv_snp.c, cv_sgxext.c) ----------------------
# [3] ASan+UBSan builds of csrc/fuzz/fuzz_{snp,sgxext}.c driven by csrc/fuzz/run_target.c over
#     the SNP reports of vectors/snp and $SHARED/amd, and the SGX extension values of every PCK
#     certificate in vectors/intel and $SHARED/intel (extracted to $TMP), each plus
#     NATIVE_MUTATIONS mutations (overwrites, bit flips, inserted/deleted bytes, truncations);
# [4] with clang's libFuzzer, each target for NATIVE_EXT_FUZZ_SECONDS (default FUZZ_SECONDS/4).
EXT_FUZZ_SECONDS=${NATIVE_EXT_FUZZ_SECONDS:-$((FUZZ_SECONDS / 4))}
EXT_LIBFUZZER=0
if [ "$EXT_FUZZ_SECONDS" != 0 ] && [ "$LIBFUZZER" = 1 ]; then
  EXT_LIBFUZZER=1
fi
mkdir -p "$TMP/seeds_snp" "$TMP/seeds_sgxext"
n=0
for f in vectors/snp/*/report.bin "$SHARED"/amd/*/report.bin; do
  [ -f "$f" ] || continue
  n=$((n + 1)); cp "$f" "$TMP/seeds_snp/report-$n.bin"
done
for t in snp sgxext; do  # kept libFuzzer findings replay as seeds
  for f in tests/fuzz/regressions/native-fuzz_$t/*; do
    [ -f "$f" ] && cp "$f" "$TMP/seeds_$t/regression-$(basename "$f")"
  done
done
"$PY" - "$TMP/seeds_sgxext" vectors/intel "$SHARED/intel" <<'PYEOF' || echo "native-checks: SGX extensions not extracted"
import binascii, hashlib, re, sys
from pathlib import Path
from cryptography import x509
oid = x509.ObjectIdentifier("1.2.840.113741.1.13.1")
pem = re.compile(rb"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s\\n]+?-----END CERTIFICATE-----")
out = Path(sys.argv[1])
for base in map(Path, sys.argv[2:]):
    for f in (p for p in base.rglob("*") if p.is_file() and p.stat().st_size < 4_000_000):
        raw = f.read_bytes()
        texts = [raw]
        try:
            texts.append(binascii.unhexlify(raw.strip().removeprefix(b"0x")))
        except (binascii.Error, ValueError):
            pass
        for text in texts:
            for m in pem.finditer(text):
                try:
                    cert = x509.load_pem_x509_certificate(m.group(0).replace(b"\\n", b"\n"))
                    value = cert.extensions.get_extension_for_oid(oid).value.value
                except (ValueError, x509.ExtensionNotFound):
                    continue
                (out / f"sgxext-{hashlib.sha256(value).hexdigest()[:16]}.der").write_bytes(value)
PYEOF
for t in snp sgxext; do
  seeds=$(ls "$TMP/seeds_$t" | wc -l)
  if [ "$seeds" = 0 ]; then echo "native-checks: [3] $t: no seeds, SKIPPED"; continue; fi
  echo "native-checks: [3] $CC_SAN ASan+UBSan $t, $seeds seeds x $MUTATIONS mutations"
  # shellcheck disable=SC2086
  "$CC_SAN" $FLAGS $SAN csrc/fuzz/run_target.c "csrc/fuzz/fuzz_$t.c" csrc/cv_reader.c \
    "csrc/cv_$t.c" -o "$TMP/run_$t"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$TMP/run_$t" -n "$MUTATIONS" "$TMP/seeds_$t"/*
  if [ "$EXT_LIBFUZZER" = 0 ]; then
    echo "native-checks: [4] libFuzzer $t SKIPPED (no clang with libFuzzer, or NATIVE_EXT_FUZZ_SECONDS=0)"
    continue
  fi
  echo "native-checks: [4] libFuzzer $t for ${EXT_FUZZ_SECONDS}s"
  # shellcheck disable=SC2086
  clang $FLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    "csrc/fuzz/fuzz_$t.c" csrc/cv_reader.c "csrc/cv_$t.c" -o "$TMP/fuzz_$t"
  mkdir -p "$TMP/corpus_$t"
  mkdir -p "tests/fuzz/regressions/native-fuzz_$t"
  (cd "$TMP" && "./fuzz_$t" -max_total_time="$EXT_FUZZ_SECONDS" -max_len=8192 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$REPO/tests/fuzz/regressions/native-fuzz_$t/" \
      "corpus_$t" "seeds_$t" 2>"fuzz_$t.log") \
    || { tail -60 "$TMP/fuzz_$t.log"; exit 1; }
  grep -E "^(stat::number_of_executed_units|Done)" "$TMP/fuzz_$t.log" || tail -3 "$TMP/fuzz_$t.log"
done
rmdir tests/fuzz/regressions/native-fuzz_* 2>/dev/null || true  # the empty ones
echo "native-checks: OK"
