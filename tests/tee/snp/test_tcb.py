"""SEV-SNP products from CPUID and the TCB_VERSION layout of each product."""

from __future__ import annotations

import pytest

from cocoverify.tee.snp.tcb import TcbVersion, encode_tcb, product_from_cpuid


def test_tcb_layouts() -> None:
    # anolis (openanolis/trustee) Turin 0x6100000005020301 -> fmc 1, bl 3, tee 2, snp 5, ucode 97
    turin = TcbVersion.decode((0x6100000005020301).to_bytes(8, "little"), "Turin")
    assert turin == TcbVersion(bootloader=3, tee=2, snp=5, microcode=97, fmc=1)
    # Azure 0xdb18000000000004: ucode 219, snp 24, bl 4
    milan = TcbVersion.decode((0xDB18000000000004).to_bytes(8, "little"), "Milan")
    assert milan == TcbVersion(bootloader=4, tee=0, snp=24, microcode=219)
    assert milan.components() == {"bootloader": 4, "tee": 0, "snp": 24, "microcode": 219}
    assert list(turin.components()) == ["fmc", "bootloader", "tee", "snp", "microcode"]
    for product, tcb in (("Turin", turin), ("Genoa", milan)):
        raw = encode_tcb(product, **tcb.components())
        assert TcbVersion.decode(raw, product) == tcb
    with pytest.raises(ValueError):
        TcbVersion.decode(bytes(8), "Venice")
    with pytest.raises(ValueError):
        encode_tcb("Milan", bootloader=1, tee=1, snp=1, microcode=1, fmc=1)


@pytest.mark.parametrize(
    ("family", "model", "product"),
    [
        (0x19, 0x01, "Milan"),
        (0x19, 0x0F, "Milan"),
        (0x19, 0x11, "Genoa"),
        (0x19, 0xA0, "Genoa"),
        (0x19, 0xAF, "Genoa"),
        (0x1A, 0x02, "Turin"),
        (0x1A, 0x11, "Turin"),
        (0x1A, 0x50, None),
        (0x19, 0x20, None),
        (0x17, 0x01, None),
    ],
)
def test_product_from_cpuid(family: int, model: int, product: str | None) -> None:
    assert product_from_cpuid(family, model) == product
