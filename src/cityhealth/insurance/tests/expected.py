"""What each result code of the gateway's published list must mean for a visit, written out
from the contract's list and its suggested handling (not read from the shipped table)."""

from cityhealth.insurance.types import Eligibility

E, P, N, M, W = (
    Eligibility.ELIGIBLE,
    Eligibility.CHECK_PAPERS,
    Eligibility.NOT_COVERED,
    Eligibility.MISMATCH,
    Eligibility.PENDING,
)
EXPECTED_STATUS = {
    "000": E, "001": P, "002": P, "003": E, "004": E, "010": N,
    "050": M, "051": M, "052": M, "053": M, "054": W, "055": W,
    "060": M, "061": M, "070": M, "080": M, "090": M,
    "100": W, "101": W, "110": N,
    "120": N, "121": N, "122": N, "123": N, "124": N, "130": N,
    "205": W, "401": W,
}  # fmt: skip
