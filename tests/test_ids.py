"""Study ids: the contract's format, reproducible when seeded."""

from __future__ import annotations

from mockserver.contract import Contract
from mockserver.validation import DocumentValidator
from mockserver.world.ids import IdSource


def test_ids_match_the_study_id_format(contract: Contract) -> None:
    validator = DocumentValidator(contract, "study")
    ids = IdSource()
    for _ in range(100):
        study_id = ids.study_id()
        assert study_id == study_id.lower()
        fields = {v.field for v in validator.violations({"studyId": study_id})}
        assert "studyId" not in fields
    assert "studyId" in {v.field for v in validator.violations({"studyId": "stu_1"})}


def test_ids_seeded_sequences_repeat() -> None:
    assert [IdSource(5).study_id() for _ in range(3)] == [IdSource(5).study_id()] * 3
    one, two = IdSource(5), IdSource(5)
    assert [one.study_id() for _ in range(3)] == [two.study_id() for _ in range(3)]
    assert IdSource(6).study_id() != IdSource(5).study_id()


def test_ids_rise_so_new_studies_list_in_creation_order() -> None:
    ids = IdSource()
    made = [ids.study_id() for _ in range(1000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert len({study_id[-8:] for study_id in made}) == len(made)
