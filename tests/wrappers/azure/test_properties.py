"""Properties: any intact fake evidence is accepted with its nonce and PCRs; any change to a
signed or bound byte is refused, never accepted."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cocoverify import CocoverifyError
from cocoverify.wrappers.azure import appraise_evidence
from cocoverify_testing.azure import AzureBuilder

_SNP = AzureBuilder(version=1)
_EVIDENCE = json.loads(_SNP.evidence())
_MESSAGE = bytes.fromhex(_EVIDENCE["tpm_quote"]["message"])
_INNER = _SNP.inner()


def _refused(obj: dict[str, object]) -> bool:
    try:
        appraise_evidence(json.dumps(obj).encode(), inner=_INNER)
    except CocoverifyError:
        return True
    return False


@settings(max_examples=25, deadline=None)
@given(
    nonce=st.binary(min_size=0, max_size=64),
    pcrs=st.lists(st.binary(min_size=32, max_size=32), min_size=24, max_size=24),
    secure_boot=st.booleans(),
)
def test_intact_evidence_is_accepted(nonce: bytes, pcrs: list[bytes], secure_boot: bool) -> None:
    b = AzureBuilder(nonce=nonce, pcrs=pcrs, version=2)
    b.vm_configuration = {**b.vm_configuration, "secure-boot": secure_boot}
    a = appraise_evidence(b.evidence(), inner=b.inner())
    assert a.report_data == nonce
    assert [a.claims["tpm"][f"pcr{i:02d}"] for i in range(24)] == [p.hex() for p in pcrs]
    assert a.claims["azure"]["vm_configuration"]["secure-boot"] is secure_boot


@settings(max_examples=200, deadline=None)
@given(index=st.integers(0, len(_MESSAGE) - 1), bit=st.integers(0, 7))
def test_any_bit_of_the_quote_is_signed(index: int, bit: int) -> None:
    message = bytearray(_MESSAGE)
    message[index] ^= 1 << bit
    obj = {**_EVIDENCE, "tpm_quote": {**_EVIDENCE["tpm_quote"], "message": message.hex()}}
    assert _refused(obj)


@settings(max_examples=100, deadline=None)
@given(pcr=st.integers(0, 23), index=st.integers(0, 31), bit=st.integers(0, 7))
def test_any_bit_of_any_pcr_is_bound(pcr: int, index: int, bit: int) -> None:
    pcrs = [bytearray.fromhex(p) for p in _EVIDENCE["tpm_quote"]["pcrs"]]
    pcrs[pcr][index] ^= 1 << bit
    quote = {**_EVIDENCE["tpm_quote"], "pcrs": [p.hex() for p in pcrs]}
    assert _refused({**_EVIDENCE, "tpm_quote": quote})


_HCL = bytearray(base64.urlsafe_b64decode(_EVIDENCE["hcl_report"]))
_VAR_SIZE = int.from_bytes(_HCL[1232:1236], "little")


@settings(max_examples=100, deadline=None)
@given(index=st.integers(0, _VAR_SIZE - 1), bit=st.integers(0, 7))
def test_any_bit_of_the_variable_data_is_bound(index: int, bit: int) -> None:
    hcl = bytearray(_HCL)
    hcl[1236 + index] ^= 1 << bit
    obj = {**_EVIDENCE, "hcl_report": base64.urlsafe_b64encode(bytes(hcl)).decode()}
    assert _refused(obj)
