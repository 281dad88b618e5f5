#!/usr/bin/env bash
# Set up, then verify REAL public evidence (vectors/real: an Intel TDX and SGX quote, an AMD
# SEV-SNP report, an Arm CCA token) against the REAL vendor roots cocoverify pins: no
# --trust-root. Each sample is from a public repository (vectors/real/*/PROVENANCE.md) and is
# verified at a time inside its collateral's validity window (--at). Exits non-zero when any
# outcome differs from the one stated here.
cd "$(dirname "$0")/.."
. scripts/_venv.sh
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
R=vectors/real
rc=0

# demo WANT_EXIT TITLE ARGS...: run `cocoverify ARGS`, check its exit code
demo() {
  local want=$1 title=$2 got=0
  shift 2
  echo "== $title"
  echo "\$ cocoverify $*"
  .venv/bin/cocoverify "$@" || got=$?
  if [ "$got" -eq "$want" ]; then
    echo "-> exit $got, as expected"
  else
    echo "-> exit $got, expected $want" >&2
    rc=1
  fi
  echo
}

demo 0 "Intel TDX quote, Intel's collateral, pinned Intel SGX Root CA" \
  verify "$R/intel-tdx/tdx_quote" --collateral "$R/intel-tdx" --at 2025-07-04T10:16:31Z
demo 5 "Intel SGX quote: authentic, but its TCB is ConfigurationAndSWHardeningNeeded (default policy: UpToDate only)" \
  verify "$R/intel-sgx/sgx_quote" --collateral "$R/intel-sgx" --at 2025-07-04T10:28:44Z
demo 0 "AMD SEV-SNP report with only its VCEK (ASK and ARK-Milan are bundled and pinned)" \
  verify "$R/amd-snp-milan/report.bin" --collateral "$R/amd-snp-milan/vcek.der" --at 2023-01-25T00:00:00Z
demo 0 "Arm CCA token with its platform key (CPAK)" \
  verify "$R/arm-cca/token.cbor" --collateral "$R/arm-cca/platform-key.pem"
demo 4 "The same TDX quote today: its 2025 collateral is stale, the message says what to do" \
  verify "$R/intel-tdx/tdx_quote" --collateral "$R/intel-tdx"

# The project's generated samples are signed by its TEST PKI: they verify only with that root
# pinned by --trust-root (never in production).
S=vectors/sample
for tee in sgx tdx; do
  demo 0 "generated $tee sample (test PKI)" verify "$S/$tee/quote.bin" \
    --collateral "$S/$tee/collateral" --trust-root "$S/trust/intel_root_ca.pem" \
    --at 2025-06-01T00:00:00Z
done
[ "$rc" -eq 0 ] && echo "demo: every outcome as expected" || echo "demo: some outcomes differ" >&2
exit $rc
