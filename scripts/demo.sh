#!/usr/bin/env bash
# Set up, then verify the bundled sample evidence (generated with the project's TEST PKI).
cd "$(dirname "$0")/.."
. scripts/_venv.sh
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
S=vectors/sample
AT=$(cat "$S/AT")
rc=0
for tee in sgx tdx; do
  .venv/bin/cocoverify verify "$S/$tee/quote.bin" --collateral "$S/$tee/collateral" \
    --trust-root "$S/test-root.pem" --at "$AT" || rc=$?
  echo
done
exit $rc
