"""Contract properties shared by every procedure: replay determinism, drawable sizes, bad config."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acuity.optotypes import OPTOTYPE_SETS, optotype_set
from acuity.procedure import ProcedureConfig, ProcedureError, build_procedure, replay

PROCEDURE_NAMES = ["adaptive", "chart", "manual", "best_pest"]


def answer(symbols, shown, correct):
    """The right symbol, "not sure" (None) or a wrong symbol."""
    if correct is None:
        return None
    if correct:
        return shown
    return next(s for s in symbols if s != shown)


def run(config, seed, outcomes, requested=None):
    """Live test answering from `outcomes` (True / False / None per optotype), cycling."""
    procedure = build_procedure(config, seed)
    symbols = optotype_set(config.optotype_set).symbols
    history, k = [], 0
    for i in range(60):
        size = None if requested is None else requested[i % len(requested)]
        presentation = procedure.next_presentation(size)
        if presentation is None or (requested is not None and i >= len(requested)):
            break
        responses = []
        for shown in presentation.optotypes:
            responses.append(answer(symbols, shown, outcomes[k % len(outcomes)]))
            k += 1
        procedure.record(presentation, responses)
        history.append((presentation, responses))
    return procedure, history


configs = st.builds(
    ProcedureConfig,
    procedure=st.sampled_from(PROCEDURE_NAMES),
    optotype_set=st.sampled_from(sorted(OPTOTYPE_SETS)),
    min_logmar=st.floats(-0.5, 0.3).map(lambda v: round(v, 3)),
    max_logmar=st.floats(0.45, 1.6).map(lambda v: round(v, 3)),
    max_trials=st.integers(1, 30),
    chart_presentation=st.sampled_from(["row", "single"]),
)
outcome_lists = st.lists(st.sampled_from([True, True, False, None]), min_size=1, max_size=40)
requested_sizes = st.lists(st.floats(-0.5, 1.6).map(lambda v: round(v, 2)), min_size=1, max_size=25)


def _requested_for(config, sizes):
    if config.procedure != "manual":
        return None
    return [min(max(s, config.min_logmar), config.max_logmar) for s in sizes]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, seed=st.integers(0, 2**31), outcomes=outcome_lists, sizes=requested_sizes)
def test_replay_gives_the_same_state_and_next_presentation_is_pure(config, seed, outcomes, sizes):
    requested = _requested_for(config, sizes)
    live, history = run(config, seed, outcomes, requested)
    rebuilt = replay(config, seed, history)
    assert rebuilt.estimate() == live.estimate()
    assert rebuilt.finished == live.finished
    probe = None if requested is None else requested[0]
    first = rebuilt.next_presentation(probe)
    assert rebuilt.next_presentation(probe) == first  # pure: asking twice changes nothing
    assert live.next_presentation(probe) == first


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, seed=st.integers(0, 2**31), outcomes=outcome_lists, sizes=requested_sizes)
def test_every_size_shown_is_drawable_and_the_interval_holds_the_estimate(config, seed, outcomes, sizes):
    procedure, history = run(config, seed, outcomes, _requested_for(config, sizes))
    for presentation, _ in history:
        assert config.min_logmar - 1e-9 <= presentation.logmar <= config.max_logmar + 1e-9
        assert len(presentation.optotypes) >= 1
    result = procedure.estimate()
    assert result.ci95_low_logmar <= result.logmar <= result.ci95_high_logmar
    assert result.trials == len(history)


@pytest.mark.parametrize("name", ["adaptive", "chart", "best_pest"])
def test_replay_refuses_a_tampered_history(name):
    config = ProcedureConfig(procedure=name)
    _, history = run(config, 7, [True, False, True])
    presentation, responses = history[2]
    forged = type(presentation)(presentation.index, presentation.logmar, tuple(reversed(presentation.optotypes)))
    if forged == presentation:  # one optotype: change the symbol instead
        other = next(s for s in optotype_set(config.optotype_set).symbols if s != presentation.optotypes[0])
        forged = type(presentation)(presentation.index, presentation.logmar, (other,))
    tampered = history[:2] + [(forged, responses)] + history[3:]
    with pytest.raises(ProcedureError, match="stored trial 2"):
        replay(config, 7, tampered)
    with pytest.raises(ProcedureError):
        replay(config, 8, history)  # another seed shows other symbols
    assert replay(config, 8, tampered, verify=False).history  # opt-out still rebuilds


def test_adaptive_accepts_a_clinician_override_in_replay():
    config = ProcedureConfig()
    procedure = build_procedure(config, 3)
    history = []
    for size in (None, 0.5, None, None):
        presentation = procedure.next_presentation(size)
        procedure.record(presentation, [presentation.optotypes[0]])
        history.append((presentation, [presentation.optotypes[0]]))
    assert history[1][0].logmar == 0.5
    assert replay(config, 3, history).estimate() == procedure.estimate()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"optotype_set": "klingon"}, "unknown optotype set"),
        ({"min_logmar": 0.5, "max_logmar": 0.2}, "must be below max_logmar"),
        ({"min_logmar": float("nan")}, "finite number"),
        ({"max_trials": 0}, "max_trials"),
        ({"chart_stop_misses": 6}, "cannot exceed"),
        ({"chart_presentation": "page"}, "chart_presentation"),
        ({"target_ci95_half_width_logmar": -0.1}, "target_ci95"),
        ({"min_logmar": 0.231, "max_logmar": 0.239}, "holds no 0.01 logMAR size"),
        ({"procedure": "snellen"}, "unknown procedure"),
    ],
)
@pytest.mark.parametrize("name", PROCEDURE_NAMES)
def test_bad_configuration_is_refused_with_a_clear_message(name, changes, message):
    with pytest.raises(ProcedureError, match=message):
        build_procedure(ProcedureConfig(**{"procedure": name, **changes}), 1)


def test_a_chart_needs_a_row_in_the_drawable_range():
    with pytest.raises(ProcedureError, match="no chart row"):
        build_procedure(ProcedureConfig(procedure="chart", min_logmar=0.22, max_logmar=0.28), 1)


def _stopped_early(procedure) -> bool:
    from acuity.procedures import stopped_early

    result = procedure.estimate()
    return stopped_early(procedure.config.procedure, result.trials, result.finished)


@pytest.mark.parametrize("name", ["adaptive", "chart", "best_pest"])
def test_an_eye_ended_before_its_stopping_rule_stopped_early(name):
    """Stopped early (docs/measurement.md §7): a procedure with a stopping rule of its own stopped
    early exactly when it was ended before that rule; run to its end, it did not."""
    config = ProcedureConfig(procedure=name)
    cut, _ = run(config, 3, [True, True, False], requested=[None] * 4)
    assert len(cut.history) == 4 and not cut.finished and _stopped_early(cut)
    whole, _ = run(config, 3, [True, True, False])
    assert whole.finished and not _stopped_early(whole)


def test_a_manual_eye_stopped_early_below_the_trials_its_interval_needs():
    """Manual has no stopping rule: stopped early with fewer trials than the adaptive procedure
    needs before it may stop on its interval (MIN_TRIALS_FOR_INTERVAL, 8)."""
    from acuity.procedures.bayesian import MIN_TRIALS_FOR_INTERVAL

    config = ProcedureConfig(procedure="manual")
    sizes = [0.5, 0.3, 0.2, 0.1, 0.2, 0.3, 0.1, 0.2, 0.3]
    short, _ = run(config, 5, [True, False], requested=sizes[: MIN_TRIALS_FOR_INTERVAL - 1])
    assert len(short.history) == MIN_TRIALS_FOR_INTERVAL - 1 and _stopped_early(short)
    enough, _ = run(config, 5, [True, False], requested=sizes[:MIN_TRIALS_FOR_INTERVAL])
    assert len(enough.history) == MIN_TRIALS_FOR_INTERVAL and not _stopped_early(enough)
    with pytest.raises(ValueError, match="unknown procedure"):
        from acuity.procedures import stopped_early

        stopped_early("staircase", 10, True)


@pytest.mark.parametrize("procedure", PROCEDURE_NAMES)
@pytest.mark.parametrize("set_name", sorted(OPTOTYPE_SETS))
def test_every_procedure_runs_with_every_optotype_set(procedure, set_name):
    """A set added to acuity.optotypes needs its model figures (slope, chart offset) in every procedure."""
    config = ProcedureConfig(procedure=procedure, optotype_set=set_name, max_trials=6)
    requested = [0.5, 0.4, 0.3] if procedure == "manual" else None
    done, history = run(config, 1, [True, False, True], requested)
    assert history and all(p.optotypes[0] in optotype_set(set_name).symbols for p, _ in history)
    assert -0.5 <= done.estimate().logmar <= 1.7
