"""Named clinical cases: contract variable keys (CONTRACT.md section 1) to typed values.

Each is a complete walk of the published version 2; ``version_1`` gives a case as version 1 reads
it (it has no ``ki67_known``). The comment says what the case is and which codes the contract
expects (section 2, section 5's examples, section 6 for version 2).
"""

from __future__ import annotations

from typing import Any

Case = dict[str, Any]

NONFUNCTIONING = {"suspected_syndrome": "none", "functional_status": "nonfunctioning"}

# Contract example 1: incidental 0.9 cm nonfunctioning tumour of the body, no Ki-67:
# nf.observation, nf.imaging_6_months; never nf.resection_consider_lnd.
NONFUNCTIONING_INCIDENTAL_0_9CM: Case = {
    **NONFUNCTIONING,
    "disease_extent": "localized",
    "tumor_size_cm": 0.9,
    "ki67_known": False,
    "incidental": True,
    "tumor_location": "body",
}

# Version 2's high-grade localized case (6.1): the same tumour with Ki-67 40 %, poorly
# differentiated: caution.high_grade_localized, nf.resection_consider_lnd; never nf.observation.
NONFUNCTIONING_HIGH_GRADE_0_9CM: Case = {
    **NONFUNCTIONING_INCIDENTAL_0_9CM,
    "ki67_known": True,
    "ki67_percent": 40,
    "differentiation": "poor",
}

# Contract example 2: duodenal gastrinoma of 0.6 cm: fx.resection_regardless_of_size,
# fx.gastrinoma_ppi, surgery.duodenotomy_local_resection.
GASTRINOMA_DUODENUM_0_6CM: Case = {
    "suspected_syndrome": "gastrinoma",
    "functional_status": "gastrinoma",
    "disease_extent": "localized",
    "tumor_size_cm": 0.6,
    "tumor_location": "duodenum",
}

# Deep 1.8 cm gastrinoma of the head: surgery.pancreatoduodenectomy, fx.gastrinoma_ppi,
# caution.lymph_node_sampling; never special.splenectomy_vaccination.
GASTRINOMA_HEAD_DEEP_1_8CM: Case = {
    **GASTRINOMA_DUODENUM_0_6CM,
    "tumor_size_cm": 1.8,
    "tumor_location": "head",
    "gastrinoma_head_type": "deep",
}

# Localized 1.8 cm insulinoma of the body with negative SSTR imaging: caution.ssa_insulinoma,
# caution.ssa_insulinoma_sstr_negative, special.splenectomy_vaccination; never fx.ssa_symptom_control.
INSULINOMA_BODY_SSTR_NEGATIVE_1_8CM: Case = {
    "suspected_syndrome": "insulinoma",
    "functional_status": "insulinoma",
    "sstr_status": "negative",
    "disease_extent": "localized",
    "tumor_size_cm": 1.8,
    "tumor_location": "body",
}

# Contract example 3: metastatic nonfunctioning, Ki-67 21 %, well differentiated, unresectable liver
# metastases: adv.chemotherapy_g3, adv.targeted_therapy_wd_g3; never adv.ssa.
METASTATIC_WELL_DIFFERENTIATED_G3: Case = {
    **NONFUNCTIONING,
    "disease_extent": "metastatic",
    "ki67_percent": 21,
    "differentiation": "well",
    "liver_metastases": "unresectable",
}

# The same with Ki-67 30 %, poorly differentiated: adv.chemotherapy_g3; never adv.targeted_therapy_wd_g3.
METASTATIC_POORLY_DIFFERENTIATED_G3: Case = {
    **METASTATIC_WELL_DIFFERENTIATED_G3,
    "ki67_percent": 30,
    "differentiation": "poor",
}

# Metastatic nonfunctioning G1-G2 (Ki-67 15 %), SSTR-positive, no liver metastases, not progressive:
# adv.ssa, followup.advanced_restaging (version 2); never nf.observation.
ADVANCED_SSTR_POSITIVE: Case = {
    **NONFUNCTIONING,
    "disease_extent": "metastatic",
    "ki67_percent": 15,
    "sstr_status": "positive",
    "liver_metastases": "none",
    "progressive": False,
}

# Metastatic insulinoma G1-G2 with negative SSTR imaging, no liver metastases, not progressive:
# caution.ssa_insulinoma, caution.ssa_insulinoma_sstr_negative; never adv.ssa or fx.ssa_symptom_control.
INSULINOMA_METASTATIC_SSTR_NEGATIVE: Case = {
    "suspected_syndrome": "insulinoma",
    "functional_status": "insulinoma",
    "sstr_status": "negative",
    "disease_extent": "metastatic",
    "ki67_percent": 5,
    "liver_metastases": "none",
    "progressive": False,
}

# Every named case with the codes the contract expects it to get and never to get.
EXPECTED: dict[str, tuple[Case, set[str], set[str]]] = {
    "NONFUNCTIONING_INCIDENTAL_0_9CM": (
        NONFUNCTIONING_INCIDENTAL_0_9CM,
        {"nf.observation", "nf.imaging_6_months"},
        {"nf.resection_consider_lnd"},
    ),
    "NONFUNCTIONING_HIGH_GRADE_0_9CM": (
        NONFUNCTIONING_HIGH_GRADE_0_9CM,
        {"caution.high_grade_localized", "nf.resection_consider_lnd"},
        {"nf.observation"},
    ),
    "GASTRINOMA_DUODENUM_0_6CM": (
        GASTRINOMA_DUODENUM_0_6CM,
        {"fx.resection_regardless_of_size", "fx.gastrinoma_ppi", "surgery.duodenotomy_local_resection"},
        set(),
    ),
    "GASTRINOMA_HEAD_DEEP_1_8CM": (
        GASTRINOMA_HEAD_DEEP_1_8CM,
        {"surgery.pancreatoduodenectomy", "fx.gastrinoma_ppi", "caution.lymph_node_sampling"},
        {"special.splenectomy_vaccination"},
    ),
    "INSULINOMA_BODY_SSTR_NEGATIVE_1_8CM": (
        INSULINOMA_BODY_SSTR_NEGATIVE_1_8CM,
        {"caution.ssa_insulinoma", "caution.ssa_insulinoma_sstr_negative", "special.splenectomy_vaccination"},
        {"fx.ssa_symptom_control"},
    ),
    "METASTATIC_WELL_DIFFERENTIATED_G3": (
        METASTATIC_WELL_DIFFERENTIATED_G3,
        {"adv.chemotherapy_g3", "adv.targeted_therapy_wd_g3"},
        {"adv.ssa"},
    ),
    "METASTATIC_POORLY_DIFFERENTIATED_G3": (
        METASTATIC_POORLY_DIFFERENTIATED_G3,
        {"adv.chemotherapy_g3"},
        {"adv.targeted_therapy_wd_g3"},
    ),
    "ADVANCED_SSTR_POSITIVE": (
        ADVANCED_SSTR_POSITIVE,
        {"adv.ssa", "followup.advanced_restaging"},
        {"nf.observation"},
    ),
    "INSULINOMA_METASTATIC_SSTR_NEGATIVE": (
        INSULINOMA_METASTATIC_SSTR_NEGATIVE,
        {"caution.ssa_insulinoma", "caution.ssa_insulinoma_sstr_negative"},
        {"adv.ssa", "fx.ssa_symptom_control"},
    ),
}


def version_1(case: Case) -> Case:
    """``case`` as version 1 asks it: without the variables version 2 added."""
    return {key: value for key, value in case.items() if key != "ki67_known"}
