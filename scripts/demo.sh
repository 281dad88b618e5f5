#!/usr/bin/env bash
# Set up, then verify the bundled sample evidence (generated with the project's TEST PKI).
cd "$(dirname "$0")/.."
. scripts/_venv.sh
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
S=vectors/sample
AT=2025-06-01T00:00:00Z   # the samples' collateral is valid around this time
rc=0
for tee in sgx tdx; do
  .venv/bin/cocoverify verify "$S/$tee/quote.bin" --collateral "$S/$tee/collateral" \
    --trust-root "$S/trust/intel_root_ca.pem" --at "$AT" || rc=$?
  echo
done
exit $rc
