"""The verdicts of the reproduction report read the runs seed by seed, with an uncertainty, and
list the runs still pending (docs/_generate_stats.py, _generate_glance.py, _generate_plan.py,
_generate_mu.py): made-up runs where the means and the seeds disagree, the exact test against
known values, and a plan whose runs are finished, partial or missing."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _load(name):
    # docs/_generate.py puts docs/ on sys.path, so its sibling modules import by name
    spec = importlib.util.spec_from_file_location("minisab_docs_generate", DOCS / "_generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return importlib.import_module(name)


stats = _load("_generate_stats")
glance = _load("_generate_glance")
plan = _load("_generate_plan")
mu = _load("_generate_mu")


# ------------------------------------------------------------------ seed by seed, not the mean
def test_a_mean_that_favours_sab_over_a_seed_that_does_not():
    """One very good SAB seed outweighs a failed one in the mean; the verdict says so."""
    vals = {"sab": {0: 1.000, 1: 0.343}, "tbptt": {0: 0.179, 1: 0.118},
            "bptt": {0: 0.280, 1: 0.373}}
    assert sum(vals["sab"].values()) / 2 > sum(vals["bptt"].values()) / 2      # the means agree
    text = glance.glance_verdict(3, vals, higher=True, tie=0.01)
    assert text.startswith("holds on 1 of 2 seeds"), text
    assert "against truncated BPTT on 2 of 2" in text and "against full BPTT on 1 of 2" in text
    # the difference of the means has an interval that includes zero: no "differs"
    assert "differs" not in stats.interval_text(vals["sab"].values(), vals["bptt"].values(),
                                                "{:.3f}".format)


def test_a_mean_against_sab_over_seeds_that_support_it():
    """The other way round: SAB wins on two of three seeds, yet its mean is lower."""
    vals = {"sab": {0: 0.50, 1: 0.51, 2: 0.52}, "tbptt": {0: 0.1, 1: 0.1, 2: 0.1},
            "bptt": {0: 0.40, 1: 0.41, 2: 0.99}}
    assert sum(vals["sab"].values()) < sum(vals["bptt"].values())
    assert glance.glance_verdict(3, vals, higher=True, tie=0.01).startswith(
        "holds on 2 of 3 seeds")


def test_holds_only_where_every_seed_supports_it():
    every = {"sab": {0: 0.9, 1: 0.95, 2: 0.99}, "bptt": {0: 0.2, 1: 0.1, 2: 0.3},
             "softmax": {0: 0.5, 1: 0.6}}
    # seed 2 has no dense run: compared with BPTT, and the counts per method say so
    assert glance.glance_verdict(4, every, higher=True, tie=0.01) == (
        "holds on every seed (3 of 3) (against full BPTT on 3 of 3, against dense attention "
        "on 2 of 2)")
    complete = {"sab": {0: 0.9, 1: 0.95}, "bptt": {0: 0.2, 1: 0.1}, "softmax": {0: 0.5, 1: 0.6}}
    assert glance.glance_verdict(4, complete, higher=True, tie=0.01) == \
        "holds on every seed (2 of 2)"
    none = {"sab": {0: 0.1, 1: 0.1}, "bptt": {0: 0.5, 1: 0.6}, "softmax": {0: 0.9, 1: 0.9}}
    assert glance.glance_verdict(4, none, higher=True, tie=0.01).startswith(
        "does not hold on any seed (0 of 2)")
    # claim 3 accepts a match within the tie; claim 4 asks SAB to beat the others
    tie = {"sab": {0: 0.500}, "tbptt": {0: 0.505}, "bptt": {0: 0.505}, "softmax": {0: 0.505}}
    assert glance.glance_verdict(3, tie, higher=True, tie=0.01) == "holds (one seed)"
    assert glance.glance_verdict(4, tie, higher=True, tie=0.01).startswith("does not hold")
    # a method of the claim without a finished run: the verdict says it rests on the other
    alone = {"sab": {0: 0.0001}, "tbptt": {0: 0.0078}}
    assert glance.glance_verdict(3, alone, higher=False, tie=0.002) == (
        "holds (one seed) (against truncated BPTT on 1 of 1; no finished run of full BPTT)")
    # lower is better (MSE): the comparison turns round
    mse = {"sab": {0: 0.002, 1: 0.010}, "tbptt": {0: 0.02, 1: 0.02}, "bptt": {0: 0.001, 1: 0.3}}
    assert glance.glance_verdict(3, mse, higher=False, tie=0.0005).startswith(
        "holds on 1 of 2 seeds")


def test_bootstrap_interval_is_seeded_and_differs_only_where_it_excludes_zero():
    a, b = [0.9, 1.0, 0.95], [0.1, 0.2, 0.15]
    ci = stats.bootstrap_interval(a, b)
    assert ci == stats.bootstrap_interval(a, b)                   # the same at every generation
    assert 0.7 <= ci[0] <= 0.8 <= ci[1] <= 0.9      # the observed difference, 0.8, inside
    assert stats.interval_text(a, b, "{:.2f}".format).endswith(", differs")
    mixed = stats.bootstrap_interval([1.0, 0.3], [0.3, 0.4])
    assert mixed[0] < 0 < mixed[1] and not stats.excludes_zero(mixed)
    assert stats.bootstrap_interval([1.0], [0.3, 0.4]) is None        # one run: no spread
    assert "one run: no interval" in stats.interval_text([1.0], [0.3, 0.4], "{:.2f}".format)


def test_fisher_exact_known_values():
    # 5 of 6 against 3 of 6: the softmax row of the first, three-seed grid
    assert stats.fisher_exact(5, 6, 3, 6) == pytest.approx(0.5454545, abs=1e-6)
    assert stats.fisher_exact(6, 6, 0, 6) == pytest.approx(0.0021645, abs=1e-6)
    assert stats.fisher_exact(3, 6, 3, 6) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="k1=7 must lie between 0 and its n=6"):
        stats.fisher_exact(7, 6, 0, 6)


def test_fisher_exact_agrees_with_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    for k1, n1, k2, n2 in [(5, 6, 3, 6), (12, 12, 5, 12), (0, 12, 4, 12), (7, 10, 2, 9),
                           (1, 3, 3, 3), (9, 12, 9, 12)]:
        ref = scipy_stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
        assert stats.fisher_exact(k1, n1, k2, n2) == pytest.approx(ref, rel=1e-9)


def test_mental_updates_answer_uses_the_test():
    def cell(solved, n, planned=None):
        return {"solved": solved, "n": n, "planned": n if planned is None else planned}
    assert mu.answer(cell(5, 6), cell(3, 6)).startswith("no significant difference")
    assert mu.answer(cell(12, 12), cell(3, 12)).startswith("yes: mental updates help")
    assert mu.answer(cell(1, 12), cell(11, 12)).startswith("no: mental updates hurt")
    assert mu.answer(cell(3, 12), cell(4, 12)).startswith("neither setting trains reliably")
    assert mu.answer(cell(5, 6, 12), cell(3, 6, 12)) == "pending: 6 and 6 of 12 runs finished"


# ------------------------------------------------------------------ the plan of runs
@pytest.fixture
def tiny_plan(tmp_path, monkeypatch):
    """A plan of four runs against a results file with one finished, one partial row."""
    results = tmp_path / "results"
    (results / "demo").mkdir(parents=True)
    doc = {"experiments": [{
        "name": "demo", "what": "a demo grid", "results": "demo/results.json",
        "key": ["T", "method", "seed"], "steps": 100,
        "command": "python demo.py --T {T} --methods {method} --seeds {seed}",
        "runs": [{"T": [10], "method": ["sab", "bptt"], "seed": [0, 1]}]}]}
    (tmp_path / "plan.json").write_text(json.dumps(doc), encoding="utf-8")
    rows = [{"T": 10, "method": "sab", "seed": 0, "steps": 100, "wall_s": 60.0, "final": 0.9},
            {"T": 10, "method": "sab", "seed": 1, "steps": 40, "wall_s": 20.0, "final": 0.2},
            {"T": 10, "method": "bptt", "seed": 7, "steps": 100, "wall_s": 5.0, "final": 0.1}]
    (results / "demo" / "results.json").write_text(json.dumps({"runs": rows}), encoding="utf-8")
    monkeypatch.setattr(plan, "PLAN", tmp_path / "plan.json")
    monkeypatch.setattr(plan, "RESULTS", results)
    return plan


def test_a_partial_run_is_pending_never_final(tiny_plan):
    st = tiny_plan.status("demo")
    assert list(st["done"]) == [(10, "sab", 0)]
    assert st["pending"] == [(10, "sab", 1), (10, "bptt", 0), (10, "bptt", 1)]
    assert [r["seed"] for r in tiny_plan.finished_rows("demo", method="sab")] == [0]
    assert tiny_plan.pending("demo", method="bptt") == [(10, "bptt", 0), (10, "bptt", 1)]
    text = tiny_plan.plan_status()
    row = next(l for l in text.splitlines() if l.startswith("| `demo`"))
    assert "| 4 | 1 | 1 min |" in row                   # planned, finished, their wall time
    assert "T = 10: `sab` seed 1; T = 10: `bptt` seeds 0, 1" in row
    assert "python demo.py --T 10 --methods sab --seeds 1" in text
    assert "python demo.py --T 10 --methods bptt --seeds 0 1" in text


def test_a_wall_time_not_recorded_is_said_never_summed_as_zero():
    assert plan._wall_text([]) == "—"
    assert plan._wall_text([{"step": 1}, {"step": 2}]) == "not recorded"
    assert plan._wall_text([{"wall_s": 120.0}, {"step": 2}]) == "2 min (1 of 2 not recorded)"
    assert plan._wall_text([{"wall_s": 3000.0}, {"seconds": 4200.0}]) == "2.0 h"
    assert plan._wall_text([{"wall_s": 4.2}]) == "4 s"


def test_the_committed_plan_expands_and_names_known_fields():
    for name, exp in plan.plan().items():
        keys = plan.planned_keys(exp)
        assert keys and len(keys) == len(set(keys)), name
        for f in re.findall(r"\{(\w+)\}", exp["command"]):
            assert f in exp["key"], (name, f)


def test_the_committed_glance_rows_name_the_failing_seeds():
    """The rows of the 10-digit copy task at T = 100 and the adding task at T = 100 have a seed
    on which full BPTT ends ahead of SAB (seed 1 and seed 0): neither may say "every seed"."""
    text = glance.claims_glance()
    for what in ("copy, 10 digits, `T = 100`", "adding, `T = 100` (MSE)"):
        row = next(l for l in text.splitlines() if l.startswith(f"| {what} |"))
        verdict_cell = row.rstrip(" |").rsplit("|", 1)[1]
        assert re.search(r"holds on \d+ of \d+ seeds", verdict_cell), row


def test_a_row_with_sab_alone_says_why_it_has_no_difference(monkeypatch):
    row = ("copy, `T = 300`", 3, {"sab": {0: 0.998}}, True, 0.01, "{:.3f}".format, 1)
    monkeypatch.setattr(glance, "_glance_rows", lambda: [row])
    line = next(l for l in glance.claims_glance().splitlines() if l.startswith("| copy"))
    assert line == ("| copy, `T = 300` | 3 | 0 (1 run pending) | 0.998 | — | — | — | — (no other "
                    "method has finished a run) | no seed to compare |")


def test_the_seeds_cell_counts_pending_runs_in_words():
    assert glance._seeds_cell({"sab": {0: 1.0, 1: 0.5}}, 1) == "0, 1 (1 run pending)"
    assert glance._seeds_cell({"sab": {0: 1.0}}, 3) == "0 (3 runs pending)"
    assert glance._seeds_cell({"sab": {0: 1.0}}, 0) == "0"


# ------------------------------------------------------------------ minisab.train.wording
def test_wording_words_follow_the_numbers():
    from minisab.train import wording
    assert [wording.share(x) for x in (1.0, 0.9, 0.76, 0.5, 0.2, 0.05)] == [
        "all or nearly all", "all or nearly all", "most", "about half", "some", "little or none"]
    assert wording.weight_phrase(0.76, "their") == "most of their weight (0.76)"
    assert wording.versus(0.54, 0.73, "lstm tbptt") == "below lstm tbptt (0.540 against 0.730)"
    assert wording.relation(0.735, 0.73) == "level with"
    assert wording.relation(0.002, 0.01, tie=0.001) == "below"      # numbers, not merits
    assert wording.steps_versus(700, 1200, "x") == "sooner than x (step 700 against 1,200)"
    assert wording.sooner(5, 5) == "at the same step"


# ------------------------------------------------------------------ the change the diagnosis tries
def _fix_plan(tmp_path, monkeypatch, base, fix, planned=(0, 1, 2),
              change=("paper_copy_ktop10", "sab")):
    """paper_copy (k_top = 5) and the change's plans (``change``: its name and method, default
    paper_copy_ktop10's) over ``planned`` seeds, with made-up finished runs ({seed: final
    recall})."""
    results = tmp_path / "results"
    exps = []
    for (name, method), finals in ((("paper_copy", "sab"), base), (change, fix)):
        (results / name).mkdir(parents=True)
        exps.append({"name": name, "what": name, "results": f"{name}/results.json",
                     "key": ["T", "method", "seed"], "steps": 100, "command": "x",
                     "runs": [{"T": [100], "method": [method], "seed": list(planned)}]})
        rows = [{"T": 100, "method": method, "seed": s, "steps": 100, "wall_s": 600.0,
                 "final": v, "step_0.9": 50 if v >= 0.9 else None} for s, v in finals.items()]
        (results / name / "results.json").write_text(json.dumps({"runs": rows}), "utf-8")
    for name in ("diagnosis_paper_copy", "diagnosis_" + change[0]):
        exps.append({"name": name, "what": name, "results": f"{name}.json", "steps": None,
                     "key": ["source", "seed", "step"], "command": "x",
                     "runs": [{"source": ["final"], "seed": list(planned), "step": [100]}]})
    (tmp_path / "plan.json").write_text(json.dumps({"experiments": exps}), encoding="utf-8")
    monkeypatch.setattr(plan, "PLAN", tmp_path / "plan.json")
    monkeypatch.setattr(plan, "RESULTS", results)
    return importlib.import_module("_generate_changes")


def test_the_fix_is_recommended_only_when_every_planned_seed_solved(tmp_path, monkeypatch):
    diag = _fix_plan(tmp_path, monkeypatch, {0: 1.0, 1: 0.34, 2: 0.40}, {1: 1.0, 2: 0.99})
    text = diag.paper_copy_fix()
    assert "| 1 | 0.340 | 1.000 | 50 | pending / pending | 10 min |" in text
    assert "ends above `k_top = 5` on 2 of 2 and below it on 0 of 2" in text
    assert "route" not in text                     # no diagnosis of the k_top = 10 models yet
    (tmp_path / "results" / "diagnosis_paper_copy_ktop10.json").write_text(json.dumps({"rows": [
        {"source": "final", "seed": 1, "step": 100, "digit_phase_weight": 0.0,
         "recall_acc": 0.8, "recent_weight": 0.6, "null_weight": 0.4}]}), encoding="utf-8")
    text = diag.paper_copy_fix()
    assert "| 1 | 0.340 | 1.000 | 50 | pending / 0.00 | 10 min |" in text
    assert "on this seed the change raised the recall, but not by the route" in text
    assert "solves the seeds that failed with `k_top = 5` (1, 2)" in text
    assert "which `k_top = 10` solves, looks" not in text   # no diagnosis of k_top = 5 yet
    (tmp_path / "results" / "diagnosis_paper_copy.json").write_text(json.dumps({"rows": [
        {"source": "final", "seed": 2, "step": 100, "digit_phase_weight": 0.02}]}), "utf-8")
    (tmp_path / "results" / "diagnosis_paper_copy_ktop10.json").write_text(json.dumps({"rows": [
        {"source": "final", "seed": 1, "step": 100, "digit_phase_weight": 0.0,
         "recall_acc": 0.8, "recent_weight": 0.6, "null_weight": 0.4},
        {"source": "final", "seed": 2, "step": 100, "digit_phase_weight": 0.7,
         "recall_acc": 0.99, "recent_weight": 0.2, "null_weight": 0.1}]}), encoding="utf-8")
    assert ("Where seed 2, which `k_top = 10` solves, looks: its recall steps put 0.70 of their "
            "weight on the digit-phase memories (0.02 with `k_top = 5`), so on this seed the "
            "change worked by the route the diagnosis expected") in diag.paper_copy_fix()
    (tmp_path / "results" / "diagnosis_paper_copy_ktop10.json").write_text(json.dumps({"rows": [
        {"source": "final", "seed": 2, "step": 100, "digit_phase_weight": 0.09,
         "recall_acc": 0.99, "recent_weight": 0.5, "null_weight": 0.0}]}), encoding="utf-8")
    text = diag.paper_copy_fix()        # below 0.1: it reads through the states, said once
    assert "not by the route the diagnosis expected" in text
    assert "which `k_top = 10` solves, looks" not in text and "worked by the route" not in text
    assert "1 of the 3 planned `k_top = 10` runs is pending, so no setting is recommended" in text
    diag = _fix_plan(tmp_path / "b", monkeypatch, {0: 1.0, 1: 0.34, 2: 0.40},
                     {0: 1.0, 1: 1.0, 2: 0.99})
    text = diag.paper_copy_fix()
    assert "`k_top = 10` solves 3 of 3 and `k_top = 5` solves 1 of 3" in text
    assert "this report recommends `k_top = 10`" in text and "within chance" in text


def test_the_fix_that_fails_a_seed_is_not_recommended(tmp_path, monkeypatch):
    diag = _fix_plan(tmp_path, monkeypatch, {0: 1.0, 1: 0.34}, {0: 0.5, 1: 1.0}, planned=(0, 1))
    text = diag.paper_copy_fix()
    assert "it fails where `k_top = 5` solved (0)" in text
    assert "does not make SAB reliable here" in text and "recommends" not in text
    assert "Where seed 0 looks" not in text                 # not measured yet: nothing said
    for name, kept, weight, recall in (("diagnosis_paper_copy", 0.4, 0.7, 0.96),
                                       ("diagnosis_paper_copy_ktop10", 0.9, 0.4, 0.55)):
        (tmp_path / "results" / f"{name}.json").write_text(json.dumps({"rows": [
            {"source": "final", "seed": 0, "step": 100, "digit_kept": [kept] * 10,
             "digit_phase_weight": weight, "recall_acc": recall}]}), encoding="utf-8")
    text = diag.paper_copy_fix()
    assert ("Where seed 0 looks with `k_top = 10` (recall 0.550 on the diagnosis's held-out "
            "batch, against 0.960 with `k_top = 5`): its recall steps keep their digit's first "
            "memory 0.90 of the time (0.40 with `k_top = 5`) and put 0.40 of their weight on the "
            "digit-phase memories (0.70), so they keep the digits' memories more often, as the "
            "diagnosis expected, but give them less of their weight") in text
    # a failing seed settles it while other seeds are still pending
    text = _fix_plan(tmp_path / "d", monkeypatch, {0: 1.0, 1: 0.34, 2: 0.4}, {0: 0.5, 1: 1.0},
                     planned=(0, 1, 2)).paper_copy_fix()
    assert ("`k_top = 10` failed on 1 of the 2 finished seeds (0), so it does not make SAB "
            "reliable here and the recommended setting stays as it is (1 of the 3 planned "
            "`k_top = 10` runs is pending)") in text
    assert "No `k_top = 10` run has finished" in _fix_plan(
        tmp_path / "c", monkeypatch, {0: 1.0}, {}, planned=(0,)).paper_copy_fix()


def test_the_paper_size_run_of_the_change_is_weighed_beside_the_main_jobs_setting(
        tmp_path, monkeypatch):
    change = ("paper_copy_topk_softmax", "sab-mental")
    _fix_plan(tmp_path, monkeypatch, {0: 1.0, 1: 0.34, 2: 0.0}, {1: 0.95}, change=change)
    mu = importlib.import_module("_generate_mu")
    text = mu.paper_size_text("threshold", False)
    assert ("top-k softmax with mental updates solved 1 of 1 seeds and the main job's setting 0 "
            "of the same 1 (Fisher's exact test p = 1); 2 more of its planned runs are "
            "pending.") in text
    assert mu.paper_size_text("threshold", True) == ""          # not the base runs' setting
    _fix_plan(tmp_path / "b", monkeypatch, {0: 1.0, 1: 0.34, 2: 0.0},
              {0: 0.99, 1: 0.95, 2: 0.97}, change=change)
    assert ("solved 3 of 3 seeds and the main job's setting 1 of the same 3 (Fisher's exact test "
            "p = 0.4): no significant difference at that size.") in mu.paper_size_text(
                "threshold", False)
    _fix_plan(tmp_path / "c", monkeypatch, {s: 0.3 for s in range(5)},
              {s: 0.95 for s in range(5)}, planned=range(5), change=change)
    assert "it solved more at that size, a significant difference." in mu.paper_size_text(
        "threshold", False)
    _fix_plan(tmp_path / "d", monkeypatch, {0: 1.0}, {}, planned=(0,), change=change)
    assert mu.paper_size_text("threshold", False) == ""          # no seed ran both yet


def test_both_changes_are_summed_up_seed_by_seed_once_every_run_is_in(tmp_path, monkeypatch):
    results = tmp_path / "results"

    def setup(finals, planned=(0, 1, 2)):
        """finals: {experiment: {seed: (final recall, rising at the end)}}."""
        exps = []
        for name, method in (("paper_copy", "sab"), ("paper_copy_ktop10", "sab"),
                             ("paper_copy_topk_softmax", "sab-mental")):
            (results / name).mkdir(parents=True, exist_ok=True)
            exps.append({"name": name, "what": name, "results": f"{name}/results.json",
                         "key": ["T", "method", "seed"], "steps": 100, "command": "x",
                         "runs": [{"T": [100], "method": [method], "seed": list(planned)}]})
            rows = [{"T": 100, "method": method, "seed": sd, "steps": 100, "wall_s": 60.0,
                     "final": v, "best": v, "step_0.9": None,
                     "curve": [[0, 0, 0.1, 1], [100, 9, v if up else 0.1, 1]]}
                    for sd, (v, up) in finals.get(name, {}).items()]
            (results / name / "results.json").write_text(json.dumps({"runs": rows}), "utf-8")
        (tmp_path / "plan.json").write_text(json.dumps({"experiments": exps}), "utf-8")
    monkeypatch.setattr(plan, "PLAN", tmp_path / "plan.json")
    monkeypatch.setattr(plan, "RESULTS", results)
    changes = importlib.import_module("_generate_changes")
    monkeypatch.setattr(changes, "RISING_OVER", 50)
    base = {0: (1.0, False), 1: (0.3, True), 2: (0.2, False)}
    setup({"paper_copy": base, "paper_copy_ktop10": {0: (0.5, False), 1: (0.95, False)},
           "paper_copy_topk_softmax": {0: (0.4, False), 1: (0.3, False), 2: (0.99, False)}})
    assert "once each has run on every planned seed (`paper_copy_ktop10` pending)" in \
        changes.paper_copy_changes()
    setup({"paper_copy": base,
           "paper_copy_ktop10": {0: (0.5, False), 1: (0.95, False), 2: (0.6, True)},
           "paper_copy_topk_softmax": {0: (0.4, False), 1: (0.3, False), 2: (0.99, False)}})
    text = changes.paper_copy_changes()
    assert ("the base setting (`k_top = 5`, the paper's sparsifier, no mental updates) solved 1 "
            "(seed 0), `k_top = 10` 1 (seed 1) and top-k softmax with mental updates 1 (seed 2). "
            "3 of the 3 seeds are solved by at least one setting (seeds 0, 1, 2); each setting "
            "solved a different seed. No setting solved more than 1 of the 3") in text
    assert ("Of the 6 failed runs, 2 ended at their best and still rising (up by over 0.01 in "
            "their last 50 steps): seed 1 of the base setting; seed 2 of `k_top = 10`.") in text
    setup({"paper_copy": base,
           "paper_copy_ktop10": {0: (0.95, False), 1: (0.95, False), 2: (0.92, False)},
           "paper_copy_topk_softmax": {0: (0.95, False), 1: (0.3, False), 2: (0.2, False)}})
    text = changes.paper_copy_changes()
    assert "`k_top = 10` 3 (seeds 0, 1, 2)" in text and "different seed" not in text
    assert "No setting solved more" not in text and "reliable" not in text
    assert "Of the 4 failed runs, 1 ended at their best and still rising" in text
    setup({"paper_copy": {0: (1.0, False), 1: (0.3, False), 2: (0.2, False)},
           "paper_copy_ktop10": {0: (0.95, False), 1: (0.95, False), 2: (0.92, False)},
           "paper_copy_topk_softmax": {0: (0.95, False), 1: (0.3, False), 2: (0.2, False)}})
    assert "None of the 4 failed runs was still rising at its end" in changes.paper_copy_changes()


def test_the_route_sentences_say_only_what_each_seed_shows(tmp_path, monkeypatch):
    """"Raised the recall, not by the route" only for seeds the change ended above the base on;
    a failing seed the change moved towards the digits' memories is said to have moved, not to
    have been rescued."""
    diag = _fix_plan(tmp_path, monkeypatch, {0: 1.0, 1: 0.34, 2: 0.0}, {0: 0.6, 1: 0.8, 2: 0.5},
                     change=("paper_copy_topk_softmax", "sab-mental"))

    def final(seed, weight, recall):
        return {"source": "final", "seed": seed, "step": 100, "digit_phase_weight": weight,
                "recall_acc": recall, "recent_weight": 0.5, "null_weight": 0.0,
                "digit_kept": [weight] * 10}
    (tmp_path / "results" / "diagnosis_paper_copy.json").write_text(json.dumps({"rows": [
        final(0, 0.7, 0.96), final(1, 0.0, 0.35), final(2, 0.0, 0.0)]}), encoding="utf-8")
    (tmp_path / "results" / "diagnosis_paper_copy_topk_softmax.json").write_text(json.dumps(
        {"rows": [final(0, 0.05, 0.6), final(1, 0.05, 0.8), final(2, 0.13, 0.5)]}), "utf-8")
    text = diag.paper_copy_topk_softmax()
    assert ("Where it looks: seed 1's recall steps (recall 0.800 on the diagnosis's held-out "
            "batch)") in text and "seed 0's recall steps (recall 0.600" not in text
    assert "on this seed the change raised the recall, but not by the route" in text
    assert ("Where seed 2, which top-k softmax does not solve, looks: its recall steps put 0.13 "
            "of their weight on the digit-phase memories (0.00 with the paper's sparsifier), so "
            "the change moved this seed some way along the route the diagnosis expected, "
            "not far enough to solve it within the budget") in text
    (tmp_path / "results" / "diagnosis_paper_copy_topk_softmax.json").write_text(json.dumps(
        {"rows": [final(2, 0.04, 0.5)]}), "utf-8")
    assert "which top-k softmax does not solve" not in diag.paper_copy_topk_softmax()


def test_the_second_change_is_read_from_its_own_runs_and_named_as_itself(tmp_path,
                                                                         monkeypatch):
    """Top-k softmax with mental updates: its rows (method sab-mental), its words; the base
    setting's rows are the paper_copy SAB's."""
    diag = _fix_plan(tmp_path, monkeypatch, {0: 1.0, 1: 0.34, 2: 0.0}, {2: 0.95, 1: 0.2},
                     change=("paper_copy_topk_softmax", "sab-mental"))
    text = diag.paper_copy_topk_softmax()
    assert ("| seed | the paper's sparsifier: final recall | top-k softmax: final recall |"
            in text)
    assert "| 2 | 0.000 | 0.950 | 50 | pending / pending | 10 min |" in text
    assert ("top-k softmax solves 1 of 2 and the paper's sparsifier solves 0 of 2" in text
            and "top-k softmax solves the seed that failed with the paper's sparsifier (2)" in text)
    assert ("Top-k softmax failed on 1 of the 2 finished seeds (1), so it does not make SAB "
            "reliable here and the recommended setting stays as it is (1 of the 3 planned top-k "
            "softmax runs is pending)") in text
    assert "`k_top = 10`" not in text and "still rising" not in text   # no curves yet
    rows_file = tmp_path / "results" / "paper_copy_topk_softmax" / "results.json"
    rows = json.loads(rows_file.read_text())["runs"]
    for r in rows:              # seed 1 ends at its best, still climbing; seed 2 solved
        r["curve"] = [[0, 0, 0.1, 1], [50, 5, 0.15, 1], [80, 8, 0.18, 1], [100, 10, r["final"], 1]]
        r["best"] = r["final"]
    rows_file.write_text(json.dumps({"runs": rows}))
    monkeypatch.setattr(diag, "RISING_OVER", 50)                        # of these 100 steps
    assert ("; seed 1 ended at its best, still rising (0.150 at step 50, 0.200 at 100), so a "
            "longer budget might solve it, but the budget is the paper's") in \
        diag.paper_copy_topk_softmax()
    rows[1]["best"] = 0.5                                               # fell from its best
    rows_file.write_text(json.dumps({"runs": rows}))
    assert "still rising" not in diag.paper_copy_topk_softmax()
    assert "No top-k softmax run has finished" in _fix_plan(
        tmp_path / "b", monkeypatch, {0: 1.0}, {}, planned=(0,),
        change=("paper_copy_topk_softmax", "sab-mental")).paper_copy_topk_softmax()
    all_solved = _fix_plan(tmp_path / "c", monkeypatch, {0: 1.0, 1: 0.3}, {0: 0.99, 1: 0.97},
                           planned=(0, 1), change=("paper_copy_topk_softmax", "sab-mental"))
    assert "this report recommends top-k softmax" in all_solved.paper_copy_topk_softmax()


def test_a_trace_in_words_follows_its_numbers_and_says_when_it_is_partial(tmp_path,
                                                                          monkeypatch):
    results = tmp_path / "results"
    results.mkdir()
    exp = {"name": "diagnosis_paper_copy", "what": "d", "results": "d.json", "steps": None,
           "key": ["source", "seed", "step"], "command": "x",
           "runs": [{"source": ["train"], "seed": [1, 2, 3], "step": [0, 1000, 2000]}]}
    later = {**exp, "name": "diagnosis_paper_copy_later",      # another entry, the same file
             "runs": [{"source": ["train"], "seed": [4], "step": [0, 1000, 2000]}]}
    (tmp_path / "plan.json").write_text(json.dumps({"experiments": [exp, later]}),
                                        encoding="utf-8")

    def row(seed, step, kept):
        return {"source": "train", "seed": seed, "step": step, "digit_kept": [kept] * 10,
                "digit_phase_weight": kept, "recall_acc": kept}
    rows = [row(1, 0, 0.4), row(1, 1000, 0.1), row(1, 2000, 0.0),
            row(2, 0, 0.0), row(2, 1000, 0.0), row(2, 2000, 0.0), row(3, 0, 0.0),
            row(4, 0, 0.0), row(4, 1000, 0.0)]
    (results / "d.json").write_text(json.dumps({"rows": rows}), encoding="utf-8")
    monkeypatch.setattr(plan, "PLAN", tmp_path / "plan.json")
    monkeypatch.setattr(plan, "RESULTS", results)
    diag = importlib.import_module("_generate_diagnosis")
    assert diag._kept_words(1) == ("seed 1's recall steps keep their digit's first memory "
                                   "most often at step 0 (0.40 of the time), at most 0.10 of "
                                   "the time after it, and at no measured step from step 2,000 "
                                   "on")
    assert diag._kept_words(2).endswith("at no measured step")
    assert diag._kept_words(3) == "" and "(2 later measurements pending)" in diag._trace(3)
    assert "weight on the digit-phase memories 0.40, 0.10, 0.00" in diag._trace(1)
    # a seed traced by the later entry: partial, so no conclusion from it yet
    assert "(1 later measurement pending)" in diag._trace(4) and diag._kept_words(4) == ""
    assert diag._trace(5) == ""           # measured at the end only: no trace to wait for


def test_a_retraining_that_is_another_run_says_so(tmp_path, monkeypatch):
    results = tmp_path / "results"
    results.mkdir()
    exp = {"name": "diagnosis_paper_copy", "what": "d", "results": "d.json", "steps": None,
           "key": ["source", "seed", "step"], "command": "x",
           "runs": [{"source": ["train"], "seed": [0, 2], "step": [0, 1000]}]}
    (tmp_path / "plan.json").write_text(json.dumps({"experiments": [exp]}), encoding="utf-8")
    rows = [{"source": "train", "seed": s, "step": st, "digit_kept": [0.1] * 10,
             "digit_phase_weight": 0.1, "recall_acc": 0.2, "differs_from_step": d}
            for s, d in ((0, 0), (2, None)) for st in (0, 1000)]
    (results / "d.json").write_text(json.dumps({"rows": rows}), encoding="utf-8")
    monkeypatch.setattr(plan, "PLAN", tmp_path / "plan.json")
    monkeypatch.setattr(plan, "RESULTS", results)
    diag = importlib.import_module("_generate_diagnosis")
    assert "is not the run in the table above" in diag._trace(0)
    assert "differs from the original's from step 0 on" in diag._trace(0)
    assert diag._trace(2).endswith("reproduces the original run, bit for bit, at every step")


def test_the_load_behind_measured_times_is_stated():
    real = _load("_generate_real")
    assert real._load_words([None, None]).endswith("(the load was not recorded).")
    text = real._load_words([1.2, None, 4.56])
    assert "load average at the start of an evaluation: 1.2 to 4.6" in text
    assert "(1 of the 3 evaluations were timed before the load was recorded)" in text
    assert "timed before" not in real._load_words([2.0])
    assert real._load_words([2.01, 1.98]).endswith("evaluation: 2.0.")


def test_a_failing_run_at_the_longer_lengths_is_measured_then_traced(tmp_path, monkeypatch):
    """reproduction.md, "At T = 200 and 300": every finished SAB run is counted; a failing one
    is said to be unmeasured, then (measured) to need its trace, with the command, until its
    trace rows exist; a pending run is never counted as finished."""
    results = tmp_path / "results"
    (results / "paper_copy").mkdir(parents=True)
    runs = [{"T": 200, "method": "sab", "seed": s, "steps": st, "final": f, "wall_s": 1.0}
            for s, st, f in ((0, 100, 0.96), (1, 100, 0.40), (2, 50, 0.95))]
    (results / "paper_copy" / "results.json").write_text(json.dumps({"runs": runs}), "utf-8")
    exps = [{"name": "paper_copy", "what": "p", "results": "paper_copy/results.json",
             "key": ["T", "method", "seed"], "steps": 100, "command": "x",
             "runs": [{"T": [200], "method": ["sab"], "seed": [0, 1, 2]}]},
            {"name": "diagnosis_paper_copy_T200", "what": "d", "results": "d200.json",
             "key": ["source", "seed", "step"], "steps": None, "command": "x",
             "runs": [{"source": ["final"], "seed": [0, 1, 2], "step": [100]}]}]
    (tmp_path / "plan.json").write_text(json.dumps({"experiments": exps}), encoding="utf-8")
    monkeypatch.setattr(plan, "PLAN", tmp_path / "plan.json")
    monkeypatch.setattr(plan, "RESULTS", results)
    longer_ = importlib.import_module("_generate_longer")

    def final(seed, recall, phase):
        return {"source": "final", "seed": seed, "step": 100, "recall_acc": recall,
                "digit_acc": [recall] * 10, "digit_phase_weight": phase, "recent_weight": 0.2,
                "null_weight": 0.0, "digit_kept": [phase] * 10, "digit_credit": [0.5] * 10,
                "grad_norm": 0.1, "top_param": "W_y", "sum_tilde_min": 0.01}

    def measured(*rows):
        (results / "d200.json").write_text(json.dumps({"rows": list(rows)}), encoding="utf-8")
        return longer_.paper_copy_longer()
    text = measured()
    assert "Of the 2 finished SAB runs at `T = 200` and `300`, 1 solved the task" in text
    assert "; 1 is pending" in text and "| T |" not in text          # nothing measured yet
    assert "seed 1 at `T = 200` ended at 0.400: its final model is not measured yet" in text
    text = measured(final(0, 0.95, 0.7), final(1, 0.41, 0.0))
    assert "| 200 | 0 | 0.950 | 10 of 10 | 0.70 |" in text and "| 200 | 1 | 0.410 |" in text
    assert "at `T = 200`, seed 1's recall steps (recall 0.410) put little or none" in text
    assert "its trace over training is still to run" in text and "--T 200 --seeds 1" in text
    text = measured(final(0, 0.95, 0.7), final(1, 0.41, 0.0),
                    {**final(1, 0.1, 0.3), "source": "train", "step": 0})
    assert "still to run" not in text and "not measured" not in text
    assert "earlier minisab version" not in text
    (results / "paper_copy" / "reproduced.json").write_text(json.dumps({"rows": [
        {"T": 200, "method": "sab", "seed": 0, "differs_from_step": 10},
        {"T": 200, "method": "sab", "seed": 1, "differs_from_step": None}]}), encoding="utf-8")
    text = longer_.paper_copy_longer()
    assert text.count("an earlier minisab version trained this model") == 1
    assert text.index("seed 0's recall steps") < text.index("earlier minisab") < \
        text.index("seed 1's recall steps")


def test_a_model_that_reads_nothing_says_why_and_a_fall_is_told_from_the_curve(tmp_path,
                                                                             monkeypatch):
    """reproduction.md, the final models: recall steps whose weights sum to almost nothing are
    said to read nothing, with the tied top scores that cause it; a failing seed whose recall
    fell well below its best is told by its curve, the others are not."""
    results = tmp_path / "results"
    (results / "paper_copy").mkdir(parents=True)
    curve = [[0, 0.0, 0.1, 2.0], [500, 1.0, 0.30, 0.2], [1000, 2.0, 0.0, 0.4],
             [1500, 3.0, 0.29, 0.2], [2000, 4.0, 0.0, 0.3]]
    runs = [{"T": 100, "method": "sab", "seed": 3, "steps": 2000, "final": 0.0, "best": 0.30,
             "curve": curve},
            {"T": 100, "method": "sab", "seed": 1, "steps": 2000, "final": 0.35, "best": 0.36,
             "curve": curve},
            {"T": 100, "method": "sab", "seed": 0, "steps": 2000, "final": 0.95, "best": 0.99,
             "curve": curve}]
    (results / "paper_copy" / "results.json").write_text(json.dumps({"runs": runs}), "utf-8")
    exps = [{"name": "paper_copy", "what": "p", "results": "paper_copy/results.json",
             "key": ["T", "method", "seed"], "steps": 2000, "command": "x",
             "runs": [{"T": [100], "method": ["sab"], "seed": [0, 1, 3]}]}]
    (tmp_path / "plan.json").write_text(json.dumps({"experiments": exps}), encoding="utf-8")
    monkeypatch.setattr(plan, "PLAN", tmp_path / "plan.json")
    monkeypatch.setattr(plan, "RESULTS", results)
    diag = importlib.import_module("_generate_diagnosis")
    row = {"source": "final", "seed": 3, "step": 2000, "recall_acc": 0.0, "digit_acc": [0.0] * 10,
           "digit_phase_weight": 0.0, "recent_weight": 0.0, "null_weight": 0.0,
           "digit_kept": [0.0] * 10, "digit_credit": [0.1] * 10, "grad_norm": 0.2,
           "top_param": "W_y", "sum_tilde_min": 0.0}
    assert "read next to nothing" not in diag._where(row)        # measured before: no claim
    assert "| 0.00 | — |" in diag._row(row)
    empty = {**row, "attn_total": 0.04, "top_tied": 0.96, "scorer_saturated": 0.95}
    text = diag._where(empty)
    assert ("they read next to nothing: their weights sum to 0.04 on average (1 where a step "
            "reads a distribution), because at 0.96 of them the `k_top + 1` largest scores are "
            "equal") in text
    assert "(0.95 of the scorer's tanh units are at ±1" in text
    assert "tanh units" not in diag._where({**empty, "scorer_saturated": 0.2})
    assert "| 0.00 | 0.04 |" in diag._row(empty)
    assert "read next to nothing" not in diag._where({**empty, "attn_total": 0.9999})
    assert diag._fell(3) == ("seed 3's held-out recall was at best 0.300 (step 500) and 0.000 "
                             "at the end of training (as low at step 1,000)")
    assert diag._fell(1) == "" and diag._fell(0) == "" and diag._fell(7) == ""


def test_the_shortest_length_is_compared_with_the_longer_ones_by_an_exact_test(tmp_path,
                                                                              monkeypatch):
    """reproduction.md, "At T = 200 and 300": SAB's solved count at T = 100 beside the longer
    lengths', with Fisher's exact test; "below the 5% level" only where p is, never a word that
    the counts contradict, and nothing before both have a finished run."""
    results = tmp_path / "results"
    (results / "paper_copy").mkdir(parents=True)
    exps = [{"name": "paper_copy", "what": "p", "results": "paper_copy/results.json",
             "key": ["T", "method", "seed"], "steps": 100, "command": "x",
             "runs": [{"T": [100, 200], "method": ["sab"], "seed": [0, 1, 2, 3, 4]}]}]
    (tmp_path / "plan.json").write_text(json.dumps({"experiments": exps}), encoding="utf-8")
    monkeypatch.setattr(plan, "PLAN", tmp_path / "plan.json")
    monkeypatch.setattr(plan, "RESULTS", results)
    longer_ = importlib.import_module("_generate_longer")

    def words(short, longer):
        runs = [{"T": T, "method": "sab", "seed": s, "steps": 100, "final": f, "wall_s": 1.0}
                for T, finals in ((100, short), (200, longer)) for s, f in enumerate(finals)]
        (results / "paper_copy" / "results.json").write_text(json.dumps({"runs": runs}), "utf-8")
        longer = [r for r in runs if r["T"] == 200]
        counts = longer_._solved_counts(longer)
        return longer_._against_shortest(longer, *counts) if counts else ""
    assert words([], [0.95]) == "" and words([0.95], []) == ""
    text = words([0.95, 0.3, 0.3, 0.3, 0.3], [0.95, 0.99, 0.98, 0.97, 0.96])
    assert "SAB solved 1 of its 5 finished runs there and 5 of 5 at `T = 200`" in text
    assert "p = 0.048" in text and "fewer of its runs at `T = 100`" in text  # exact: 5/105
    assert "below the 5% level" in text and "drawn after the runs were seen" in text
    assert "a lead to follow, not a finding" in text
    text = words([0.95, 0.3, 0.3, 0.3, 0.3], [0.95, 0.99, 0.98])
    assert "p = 0.14" in text and "within chance" in text and "5% level" not in text
    text = words([0.95, 0.95], [0.95, 0.3])
    assert "more of its runs at `T = 100`" in text and "p = 1" in text
    assert "as large a share" in words([0.95, 0.3], [0.3, 0.95])


def test_the_chain_explanation_follows_its_numbers_and_its_test_is_pending_until_traced(
        tmp_path, monkeypatch):
    """reproduction.md, "At T = 200 and 300": where the failing seeds at T = 100 read no digit
    memory, the report says their recall comes through the states; it offers the explanation
    only where full BPTT recalls more at T = 100 on every run, and says what the T = 200 traces
    show only once they are measured, in words that follow the numbers."""
    results = tmp_path / "results"
    (results / "paper_copy").mkdir(parents=True)
    runs = [{"T": T, "method": m, "seed": s, "steps": 100, "final": f, "wall_s": 1.0}
            for T, m, s, f in ((100, "sab", 0, 0.95), (100, "sab", 1, 0.35), (200, "sab", 1, 0.98),
                               (200, "sab", 2, 0.97), (100, "bptt", 0, 0.30),
                               (100, "bptt", 1, 0.35), (200, "bptt", 1, 0.15))]
    (results / "paper_copy" / "results.json").write_text(json.dumps({"runs": runs}), "utf-8")
    diag_keys = ["source", "seed", "step"]

    def entry(name, file, source, seeds, steps):
        return {"name": name, "what": "d", "results": file, "key": diag_keys, "steps": None,
                "command": "x", "runs": [{"source": [source], "seed": seeds, "step": steps}]}
    exps = [{"name": "paper_copy", "what": "p", "results": "paper_copy/results.json",
             "key": ["T", "method", "seed"], "steps": 100, "command": "x",
             "runs": [{"T": [100, 200], "method": ["sab", "bptt"], "seed": [0, 1, 2]}]},
            entry("diagnosis_paper_copy", "d100.json", "final", [0, 1], [100]),
            entry("diagnosis_paper_copy_T200", "d200.json", "final", [1, 2], [100]),
            entry("diagnosis_paper_copy_T200_trace", "d200.json", "train", [1, 2], [0, 1000]),
            # a failing seed's trace into the same file, not measured: it holds nothing back
            entry("diagnosis_paper_copy_T200_failing", "d200.json", "train", [0], [0, 1000])]
    (tmp_path / "plan.json").write_text(json.dumps({"experiments": exps}), encoding="utf-8")
    monkeypatch.setattr(plan, "PLAN", tmp_path / "plan.json")
    monkeypatch.setattr(plan, "RESULTS", results)
    longer_ = importlib.import_module("_generate_longer")

    def row(source, seed, step, kept, phase=0.0, recall=0.35):
        return {"source": source, "seed": seed, "step": step, "recall_acc": recall,
                "digit_acc": [recall] * 10, "digit_phase_weight": phase, "recent_weight": 0.9,
                "null_weight": 0.0, "digit_kept": [kept] * 10, "digit_credit": [0.5] * 10,
                "grad_norm": 0.1, "top_param": "W_y", "sum_tilde_min": 0.01, "attn_total": 1.0}

    def write(name, *rows):
        (results / name).write_text(json.dumps({"rows": list(rows)}), encoding="utf-8")
    write("d100.json", row("final", 0, 100, 0.5, 0.7, 0.95), row("final", 1, 100, 0.0, 0.02),
          row("train", 1, 0, 0.4), row("train", 1, 1000, 0.05))
    write("d200.json", row("final", 1, 100, 0.6, 0.8, 0.98), row("final", 2, 100, 0.6, 0.8, 0.97))
    text = longer_.paper_copy_longer()
    assert "fewer of its runs at `T = 100`" in text
    assert ("seed 1 (those whose recall steps read a distribution) recall 0.350 on the "
            "diagnosis's held-out batch while their recall steps put at most 0.02") in text
    assert "ends at 0.300–0.350 at `T = 100` and 0.150 at `T = 200`: every one" in text
    assert "One explanation these numbers allow, not tested here" in text   # traces pending
    assert "(the plan's `diagnosis_paper_copy_T200_trace`, seeds 1 and 2, still to run)" in text
    assert "- at `T = 200`, seed 1: pending." in text and "seed 1, steps" not in text
    write("d200.json", row("final", 1, 100, 0.6, 0.8, 0.98), row("final", 2, 100, 0.6, 0.8, 0.97),
          *(row("train", s, st, k) for s, st, k in ((1, 0, 0.3), (1, 1000, 0.4), (2, 0, 0.2),
                                                     (2, 1000, 0.2))))
    text = longer_.paper_copy_longer()
    assert "still to run" not in text
    assert "- at `T = 200`, seed 1, steps 0–1,000: weight on the digit-phase memories" in text
    assert ("keep their digit's first memory 0.20–0.40 of the time on average (seeds 1 and 2), "
            "those of the failing seeds at `T = 100` 0.05 (seed 1): every solving run") in text
    assert "the solving seed 0" not in text                   # not traced: not compared
    write("d100.json", row("final", 0, 100, 0.5, 0.7, 0.95), row("final", 1, 100, 0.0, 0.02),
          row("train", 1, 0, 0.4), row("train", 1, 1000, 0.05), row("train", 0, 1000, 0.15),
          row("train", 0, 2000, 0.25))
    assert "(seed 1; the solving seed 0 there: 0.15): every" in longer_.paper_copy_longer()
    write("d200.json", *(row("train", s, st, k) for s, st, k in ((1, 0, 0.3), (1, 1000, 0.4),
                                                                 (2, 0, 0.2), (2, 1000, 0.01))))
    text = longer_.paper_copy_longer()
    assert "0.01–0.40" in text and "the two ranges overlap, so the traces neither" in text
    assert ("(seed 2 at `T = 200` kept its digits' memories no more often than a failing seed "
            "at `T = 100`, and still solved the task)") in text
    assert "not tested here" not in text and "still to run" not in text
    assert "which failed" not in text                 # the failing seed's trace: not measured
    write("d200.json", *(row("train", s, st, k) for s, st, k in (
        (1, 0, 0.3), (1, 1000, 0.4), (2, 0, 0.2), (2, 1000, 0.01), (0, 0, 0.1), (0, 1000, 0.0))))
    assert ("still solved the task). Seed 0 at `T = 200`, which failed, kept its digit's first memory 0.00 of the time "
            "over the same steps: less often than every solving run there, and less often than "
            "every failing seed at `T = 100`.") in longer_.paper_copy_longer()
    write("d200.json", *(row("train", s, st, k) for s, st, k in (
        (1, 0, 0.3), (1, 1000, 0.4), (2, 0, 0.2), (2, 1000, 0.01), (0, 0, 0.1), (0, 1000, 0.03))))
    assert ("kept its digit's first memory 0.03 of the time over the same steps: within the solving runs' range, and "
            "less often than every failing seed") in longer_.paper_copy_longer()
    runs.append({"T": 200, "method": "bptt", "seed": 2, "steps": 100, "final": 0.32,
                 "wall_s": 1.0})
    (results / "paper_copy" / "results.json").write_text(json.dumps({"runs": runs}), "utf-8")
    text = longer_.paper_copy_longer()
    assert "these numbers do not single out the chain" in text
    assert "One explanation" not in text and "the two ranges" not in text


def test_the_adding_task_at_the_papers_size_lists_finished_runs_only(tmp_path, monkeypatch):
    """reproduction.md, "Adding task at the paper's size": a finished run is a row with its MSE
    and wall time; a run part-way is counted as pending, never shown; before any run, it says so."""
    results = tmp_path / "results"
    settings = {"hidden_size": 128, "attn_size": 64, "k_top": 5, "k_att": 2, "k_trunc": 5,
                "lr": 1e-3, "batch": 32, "steps": 100, "eval_batch": 512, "solved": 0.01}
    exps = []
    for T in (200, 400):
        (results / f"adding_paper_T{T}").mkdir(parents=True)
        exps.append({"name": f"adding_paper_T{T}", "what": "a",
                     "results": f"adding_paper_T{T}/results.json", "key": ["method", "seed"],
                     "steps": 100, "command": "x",
                     "runs": [{"method": ["sab-detach", "bptt"], "seed": [0, 1]}]})
    (tmp_path / "plan.json").write_text(json.dumps({"experiments": exps}), encoding="utf-8")
    monkeypatch.setattr(plan, "PLAN", tmp_path / "plan.json")
    monkeypatch.setattr(plan, "RESULTS", results)

    def write(T, runs):
        (results / f"adding_paper_T{T}" / "results.json").write_text(
            json.dumps({"settings": {**settings, "T": T}, "runs": runs}), encoding="utf-8")
    write(200, [])
    write(400, [])
    assert "No run has finished yet (8 planned" in glance.adding_paper_runs()
    run = {"T": 400, "method": "bptt", "seed": 1, "steps": 100, "final_mse": 0.1234,
           "best_mse": 0.1, "step_solved": None, "wall_s": 600.0}
    write(400, [run, {**run, "method": "sab-detach", "seed": 0, "steps": 50}])   # part-way
    write(200, [{**run, "T": 200, "method": "sab-detach", "seed": 0, "final_mse": 1.3e-4,
                 "best_mse": 7.9e-5, "step_solved": 8500, "wall_s": 6960.0},
                {**run, "T": 200, "method": "bptt", "seed": 0, "final_mse": 0.018,
                 "best_mse": 0.0087, "step_solved": 16500, "wall_s": 1920.0}])
    text = glance.adding_paper_runs()
    assert "| 200 | SAB (no mental updates) | 0 | 0.00013 | 7.9e-05 | 8,500 | 116 min |" in text
    assert "| 200 | LSTM, full BPTT | 0 | 0.018 | 0.0087 | 16,500 (ends above it) | 32 min |" \
        in text                            # reached 0.01, then rose above it: not "solved"
    assert "| 400 | LSTM, full BPTT | 1 | 0.12 | 0.1 | — | 10 min |" in text
    assert text.index("| 200 |") < text.index("| 400 |") and "| 400 | SAB" not in text
    assert "3 of the 8 planned runs have finished; the 5 pending ones" in text
    write(400, [{**run, "seed": s, "method": m} for m in ("bptt", "sab-detach") for s in (0, 1)])
    write(200, [{**run, "T": 200, "seed": s, "method": m}
                for m, s in (("bptt", 0), ("bptt", 1), ("sab-detach", 0))])
    assert ("7 of the 8 planned runs have finished; the pending one is listed under \"Still to "
            "run\" and is in no number above. The verdict") in glance.adding_paper_runs()
    write(200, [{**run, "T": 200, "seed": s, "method": m}
                for m in ("bptt", "sab-detach") for s in (0, 1)])
    assert "8 of the 8 planned runs have finished. The verdict" in glance.adding_paper_runs()


def test_the_solved_counts_tell_a_hollow_hold_from_a_solved_seed(monkeypatch):
    """Seed 0: SAB beats full BPTT with both near chance (a hold, not a solve); seed 1: SAB
    solves it. The verdict says "every seed"; the solved counts say 1 of 2 against 0 of 2."""
    vals = {"sab": {0: 0.166, 1: 0.98}, "bptt": {0: 0.120, 1: 0.13}}
    row = ("copy, `T = 200`", 3, vals, True, 0.01, "{:.3f}".format, 0,
           ("final recall ≥ 0.9", lambda v: v >= 0.9))
    monkeypatch.setattr(glance, "_glance_rows", lambda: [row])
    line = next(l for l in glance.claims_glance().splitlines() if l.startswith("| copy"))
    assert line.endswith("| holds on every seed (2 of 2) (against full BPTT on 2 of 2; no "
                         "finished run of truncated BPTT); solved (final recall ≥ 0.9): SAB on "
                         "1 of 2, full BPTT on 0 of 2 |"), line
    lower = {"sab": {0: 0.0004, 1: 0.02}, "tbptt": {0: 0.01, 1: 0.2}}
    assert glance.solved_counts(lower, "final MSE ≤ 0.01", lambda v: v <= 0.01) == (
        "; solved (final MSE ≤ 0.01): SAB on 1 of 2, truncated BPTT on 1 of 2")


def test_the_committed_paper_size_rows_count_their_solved_runs():
    text = glance.claims_glance()
    rows = [l for l in text.splitlines() if l.startswith(("| copy, 10 digits", "| adding, `T = 200`",
                                                          "| adding, `T = 400`"))]
    assert rows and all("; solved (final " in r for r in rows), rows
    assert not any("solved (" in l for l in text.splitlines() if l.startswith("| copy, 3 digits"))


def test_the_pending_runs_are_counted_in_words_that_agree_with_their_number():
    real = _load("_generate_real")
    assert real.pending_words(0) == "none is pending"
    assert real.pending_words(1).startswith("the pending one is listed")
    assert real.pending_words(3).startswith("the 3 pending runs are listed")


def test_the_difference_compares_the_seeds_both_methods_ran():
    """SAB solved seeds 1 and 2 and failed seed 0, the only seed truncated BPTT ran: the
    difference is seed 0's (+0.05), not SAB's three-seed mean against one run (+0.60)."""
    vals = {"sab": {0: 0.17, 1: 0.98, 2: 1.0}, "tbptt": {0: 0.12},
            "bptt": {0: 0.12, 1: 0.15, 2: 0.13}}
    fmt = "{:.3f}".format
    assert glance.difference(vals, "tbptt", fmt) == (
        "truncated BPTT, seed 0 only: +0.050 (one run: no interval)")
    assert glance.difference(vals, "bptt", fmt).startswith("full BPTT +0.583 [")
    vals["softmax"] = {0: 0.9, 2: 0.95}
    assert glance.difference(vals, "softmax", fmt).startswith(
        "dense attention, seeds 0, 2: −0.340 [")


def test_the_late_traces_say_where_a_failing_seed_parts_from_a_solving_one(tmp_path,
                                                                            monkeypatch):
    """reproduction.md, "At T = 200 and 300": the failing seed and a solving one traced on past
    step 6,000. Pending until both are measured; "the two part here" only where the solving
    seed's recall steps take up the digits' memories and the failing seed's never do."""
    results = tmp_path / "results"
    (results / "paper_copy").mkdir(parents=True)
    runs = [{"T": 200, "method": "sab", "seed": s, "steps": 100, "final": f, "wall_s": 1.0}
            for s, f in ((0, 0.166), (2, 0.997))]
    (results / "paper_copy" / "results.json").write_text(json.dumps({"runs": runs}), "utf-8")
    keys = ["source", "seed", "step"]
    exps = [{"name": "paper_copy", "what": "p", "results": "paper_copy/results.json",
             "key": ["T", "method", "seed"], "steps": 100, "command": "x",
             "runs": [{"T": [200], "method": ["sab"], "seed": [0, 2]}]},
            {"name": "diagnosis_paper_copy_T200", "what": "d", "results": "d200.json",
             "key": keys, "steps": None, "command": "x",
             "runs": [{"source": ["final"], "seed": [0, 2], "step": [100]}]},
            {"name": "diagnosis_paper_copy_T200_late", "what": "d", "results": "d200.json",
             "key": keys, "steps": None, "command": "x",
             "runs": [{"source": ["train"], "seed": [0, 2], "step": [7000, 8000]}]}]
    (tmp_path / "plan.json").write_text(json.dumps({"experiments": exps}), encoding="utf-8")
    monkeypatch.setattr(plan, "PLAN", tmp_path / "plan.json")
    monkeypatch.setattr(plan, "RESULTS", results)
    longer_ = importlib.import_module("_generate_longer")

    def row(seed, step, kept, phase, null, recall):
        return {"source": "train", "seed": seed, "step": step, "recall_acc": recall,
                "digit_acc": [recall] * 10, "digit_phase_weight": phase, "recent_weight": 0.0,
                "null_weight": null, "digit_kept": [kept] * 10, "digit_credit": [0.5] * 10,
                "grad_norm": 0.1, "top_param": "W_y", "sum_tilde_min": 0.01}

    def late(*rows):
        (results / "d200.json").write_text(json.dumps({"rows": list(rows)}), encoding="utf-8")
        return longer_._late_200(runs)
    text = late(row(0, 7000, 0.0, 0.0, 0.99, 0.15))
    assert text == ("The traces of seeds 0 and 2 on to step 8,000 (the plan's "
                    "`diagnosis_paper_copy_T200_late`, still to run) will show whether, and "
                    "where, the failing seed parts from the solving one.")
    text = late(row(0, 7000, 0.0, 0.0, 0.99, 0.15), row(0, 8000, 0.02, 0.01, 0.98, 0.16),
                row(2, 7000, 0.05, 0.02, 0.95, 0.2), row(2, 8000, 0.4, 0.5, 0.3, 0.6))
    assert text.startswith("From step 7,000 to step 8,000 (the same traces, continued): seed 0 "
                           "(failed: final recall 0.166) keeps its digit's first memory "
                           "0.00–0.02 of the time, puts 0.00–0.01 of its weight on the "
                           "digit-phase memories and 0.98–0.99 on the null memory, and recalls "
                           "0.160 at step 8,000; seed 2 (solved: final recall 0.997)"), text
    assert text.endswith("So the two part here: the recall steps of seed 2 take up the digits' "
                         "memories (their digit's first memory kept at least 0.1 of the time) "
                         "from step 8,000 on, those of seed 0 at no measured step."), text
    text = late(row(0, 7000, 0.0, 0.0, 0.99, 0.15), row(0, 8000, 0.2, 0.3, 0.5, 0.16),
                row(2, 7000, 0.05, 0.02, 0.95, 0.2), row(2, 8000, 0.4, 0.5, 0.3, 0.6))
    assert "So the two part here" not in text and "These steps do not part them" in text
