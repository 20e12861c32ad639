"""The scripts: TF Serving config writer, and the benchmarks in their --quick smoke mode."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from tests.conftest import ROOT
from tfgad import run

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import tf_serving_config  # noqa: E402


def run_script(name, *args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", name), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


def test_tf_serving_config_round_trips_through_the_protos(tmp_path):
    out = tmp_path / "models.config"
    tf_serving_config.main(["--model", "ecg=/models/ecg", "--model", "img=/models/img",
                            "--output", str(out)])
    parsed = text_format.Parse(out.read_text(), model_server_config_pb2.ModelServerConfig())
    entries = parsed.model_config_list.config
    assert [(e.name, e.base_path, e.model_platform) for e in entries] == [
        ("ecg", "/models/ecg", "tensorflow"), ("img", "/models/img", "tensorflow")]
    assert entries[0].model_version_policy.latest.num_versions == 1


def test_tf_serving_config_rejects_a_malformed_model():
    with pytest.raises(SystemExit):
        tf_serving_config.main(["--model", "no-equals-sign"])


@pytest.mark.slow
def test_inference_benchmark_on_an_untrained_config_generator(tmp_path):
    out = tmp_path / "ls.json"
    result = run_script("benchmark_inference.py", "--quick", "--config=configs/test.py",
                        f"--output={out}")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [r for r in json.loads(out.read_text())["rows"] if r["kind"] == "tfgad_search"]
    assert {(r["batch"], r["xla"]) for r in rows} == {(1, False), (1, True), (8, False), (8, True)}
    assert all(r["ms_per_sample_median"] > 0 for r in rows)


@pytest.mark.slow
def test_inference_benchmark_quick(tmp_path, test_config):
    test_config.model.name, test_config.train.epochs = "bigan", 1
    workdir = tmp_path / "run"
    run.train_and_evaluate(test_config, str(workdir), "train")
    out = tmp_path / "inference.json"
    result = run_script("benchmark_inference.py", f"--workdir={workdir}", "--quick",
                        f"--output={out}")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    assert {r["kind"] for r in rows} == {"tfgad_search", "python_loop", "encoder"}
    # Both searches really optimize: the reference reaches about the residual of ours.
    for batch in (1, 8):
        ours = [r["mean_residual"] for r in rows if r["kind"] == "tfgad_search" and r["batch"] == batch]
        loop = [r["mean_residual"] for r in rows if r["kind"] == "python_loop" and r["batch"] == batch]
        assert loop[0] == pytest.approx(ours[0], rel=0.2)
    assert "| python_loop |" in result.stdout
    # One speed-up per loop row: the loop's time over the faster of our two searches.
    saved = json.loads(out.read_text())
    assert len(saved["speedups"]) == 2
    first = saved["speedups"][0]
    ours = min(r["ms_per_sample_median"] for r in rows
               if r["kind"] == "tfgad_search" and r["batch"] == first["batch"])
    assert first["speedup"] == pytest.approx(first["loop_ms"] / ours)
    assert "| python loop ms |" in (tmp_path / "inference.md").read_text()
    # Encoder rows plain and XLA; the floor is the FLOPs over the peak, the share its ratio.
    encoder_rows = [r for r in rows if r["kind"] == "encoder"]
    assert {(r["batch"], r["xla"]) for r in encoder_rows} == {(1, False), (1, True), (8, False),
                                                               (8, True)}
    e = saved["encoder"]
    assert e["floor_ms_per_sample"] == pytest.approx(
        e["flops_per_sample"] / (e["peak_gflops_per_s"] * 1e9) * 1000)
    for r in encoder_rows:
        assert r["share_of_peak"] == pytest.approx(e["floor_ms_per_sample"]
                                                   / r["ms_per_sample_median"])
    assert "MFLOP per sample (E, G and D twice)" in (tmp_path / "inference.md").read_text()


def test_loop_reference_optimizes_like_the_batched_search():
    import numpy as np
    import tensorflow as tf

    import benchmark_inference
    from tfgad.detection.latent_search import LatentSearch
    from tfgad.models import networks
    from tfgad.priors import Prior
    tf.keras.utils.set_random_seed(0)
    generator = networks.build_generator((32, 1), 4, base_filters=8, num_blocks=2)
    prior = Prior("normal", 4)
    x = generator(prior.sample(6, seed=tf.constant([1, 1])), training=False)
    start = tf.repeat(prior.sample(1, seed=tf.constant([2, 2])), 6, axis=0)
    start_residual = np.abs(x - generator(start, training=False)).mean()
    loop = benchmark_inference.LoopReference(generator, 6, 4, 0.05)
    for _ in range(2):  # twice: the second run must start afresh (z and Adam reset)
        steps, residual = loop(x, start, 60, 0.0)
    ours = LatentSearch(generator, prior, n_max=60, learning_rate=0.05)(x, z_init=start)
    assert steps == 60
    assert residual.mean() < 0.8 * start_residual  # a reset learning rate would leave 1.0
    assert residual.mean() == pytest.approx(float(tf.reduce_mean(ours["loss"])), rel=0.3)


@pytest.mark.slow
def test_quality_benchmark_quick_runs_every_method_on_shared_splits_and_resumes(
        tmp_path, mitdb):
    import benchmark_quality
    out = tmp_path / "quality.json"
    args = ["--quick", "--suites=digits,mitbih_intra", "--classes=3", f"--mitdb={mitdb}",
            "--baselines=isolation_forest,pca,conv_ae", "--labelled=gbdt", f"--output={out}"]
    benchmark_quality.main(args)
    saved = json.loads(out.read_text())
    runs = saved["runs"]
    methods = {f"{m}/{c}" for m in ("gan", "aegan") for c in ("weighted", "grid", "svm")}
    methods |= {"isolation_forest", "pca", "conv_ae"}
    # Grid and SVM fit on labelled anomalies: label-fair baselines stand beside them.
    methods |= {"gbdt", "classic+grid", "classic+svm"}  # the cnn: tests/test_baselines.py
    for suite in ("digits", "mitbih_intra"):
        for seed in (0, 1):
            assert {r["method"] for r in runs if (r["suite"], r["seed"]) == (suite, seed)} == methods
    for r in runs:
        assert all(0.0 <= r[m] <= 1.0 for m in ("auroc", "auprc", "f1")) and -1 <= r["mcc"] <= 1
    # The same test subset for every method of a suite and seed.
    assert len({(r["suite"], r["seed"], r["test_samples"], r["test_anomalies"]) for r in runs}) == 4
    # Digit 3 against the others is easy for an isolation forest even at this size.
    forest = [r["auroc"] for r in runs if r["suite"] == "digits" and r["method"] == "isolation_forest"]
    assert min(forest) > 0.8
    row = next(r for r in saved["summary"] if r["suite"] == "digits" and r["method"] == "pca")
    per_seed = [next(r["auroc"] for r in runs if r["suite"] == "digits" and r["method"] == "pca"
                     and r["seed"] == s) for s in (0, 1)]
    assert row["auroc"]["mean"] == pytest.approx(np.mean(per_seed))
    assert row["auroc"]["std"] == pytest.approx(np.std(per_seed))
    assert "### mitbih_intra" in (tmp_path / "quality.md").read_text()
    # A rerun finds every run done and adds nothing.
    benchmark_quality.main(args)
    assert len(json.loads(out.read_text())["runs"]) == len(runs)


@pytest.mark.slow
def test_quality_benchmark_runs_ensembles_and_recipes_with_their_own_combiner(tmp_path):
    import benchmark_quality
    recipe = tmp_path / "tiny_recipe.py"
    # The suite decides the data source and the budget the subset sizes, not the recipe.
    recipe.write_text('FAMILY = "aegan"\nOVERRIDES = {"data.name": "mitbih", "model.latent_dim": 4, '
                      '"detection.max_samples": 7, '
                      '"detection.combiner": "svm", "detection.components": "residual,feature"}\n')
    out = tmp_path / "quality.json"
    benchmark_quality.main(["--quick", "--suites=digits", "--classes=3", "--seeds=0",
                            "--models=aegan", "--combiners=weighted", "--ensembles=2",
                            "--baselines=pca", "--labelled=none", f"--recipes={recipe}",
                            f"--output={out}"])
    runs = {r["method"]: r for r in json.loads(out.read_text())["runs"]}
    assert set(runs) == {"aegan/weighted", "aegan_x2/weighted", "recipe:tiny_recipe/svm", "pca",
                         "classic+svm"}
    assert runs["classic+svm"]["components"] == ["pca"]
    assert runs["recipe:tiny_recipe/svm"]["components"] == ["residual", "feature"]
    assert runs["recipe:tiny_recipe/svm"]["test_samples"] == runs["pca"]["test_samples"] > 7
    assert {"residual_m0", "residual_m1", "spread"} <= set(runs["aegan_x2/weighted"]["components"])
    # The best threshold on test is an upper bound of the validation threshold's MCC.
    assert all(r["oracle_mcc"] >= r["mcc"] - 1e-12 for r in runs.values())
    assert "best MCC on test" in (tmp_path / "quality.md").read_text()


@pytest.mark.slow
def test_a_recipe_with_its_own_samples_is_compared_with_baselines_on_them(tmp_path, mitdb):
    import benchmark_quality
    recipe = tmp_path / "rhythm_recipe.py"
    recipe.write_text('FAMILY = "aegan"\nOVERRIDES = {"data.rhythm_features": True, '
                      '"detection.combiner": "svm", '
                      '"detection.components": "residual,rr_pre,rr_post,rr_local"}\n')
    assert benchmark_quality.sample_settings(
        benchmark_quality.config_files.load_module(str(recipe)), "mitbih_intra", "quick") == {
            "data.rhythm_features": True}
    out = tmp_path / "quality.json"
    benchmark_quality.main(["--quick", "--suites=mitbih_intra", "--seeds=0", "--models=none",
                            "--baselines=pca", "--labelled=gbdt", f"--mitdb={mitdb}",
                            f"--recipes={recipe}", f"--output={out}"])
    runs = {r["method"]: r for r in json.loads(out.read_text())["runs"]}
    assert set(runs) == {"recipe:rhythm_recipe/svm", "pca", "pca@rhythm_recipe",
                         "gbdt@rhythm_recipe", "classic+svm@rhythm_recipe"}
    # The label-fair composition gets the recipe's context too.
    assert runs["classic+svm@rhythm_recipe"]["components"] == ["pca", "rr_pre", "rr_post",
                                                               "rr_local"]
    assert runs["recipe:rhythm_recipe/svm"]["components"] == ["residual", "rr_pre", "rr_post",
                                                             "rr_local"]
    # The same beats (the rhythm adds channels, not beats), seen with and without the rhythm.
    assert (runs["pca"]["test_samples"], runs["pca"]["test_anomalies"]) == (
        runs["pca@rhythm_recipe"]["test_samples"], runs["pca@rhythm_recipe"]["test_anomalies"])
    assert runs["pca"]["auroc"] != runs["pca@rhythm_recipe"]["auroc"]


@pytest.mark.slow
def test_quality_benchmark_judges_unseen_kinds_and_runs_without_labels(tmp_path, mitdb):
    import benchmark_quality
    out = tmp_path / "quality.json"
    benchmark_quality.main(["--quick", "--suites=mitbih_intra,mitbih_unseen,mitbih_intra_nolabel",
                            "--seeds=0", "--models=aegan", "--combiners=weighted,svm",
                            "--baselines=pca", "--labelled=none", f"--mitdb={mitdb}",
                            f"--output={out}"])
    runs = {(r["suite"], r["method"]): r for r in json.loads(out.read_text())["runs"]}
    intra, unseen = runs["mitbih_intra", "pca"], runs["mitbih_unseen", "pca"]
    # The same test split; unseen judges it without the V beats that validation labelled.
    assert unseen["test_samples"] < intra["test_samples"]
    assert intra["test_samples"] - unseen["test_samples"] == \
        intra["test_anomalies"] - unseen["test_anomalies"] > 0
    # No labels: the GANs compose one-class (weighted only), and nothing label-fair is run.
    assert {m for s, m in runs if s == "mitbih_intra_nolabel"} == {"aegan/weighted", "pca"}
    assert ("mitbih_unseen", "classic+svm") in runs
    text = (tmp_path / "quality.md").read_text()
    assert "- without labels: best GAN `aegan/weighted`" in text
    assert "best label-fair baseline `classic+svm`" in text


def test_quality_summary_averages_classes_within_a_seed_then_over_seeds():
    import benchmark_quality
    runs = [{"suite": "digits", "budget": "cpu", "method": "pca", "seed": seed,
             "normal_class": c, "auroc": value, "auprc": 1.0, "f1": 0.5, "mcc": 0.0,
             "train_seconds": 60.0, "score_ms_per_sample": 1.0}
            for seed, c, value in ((0, 0, 0.6), (0, 1, 0.8), (1, 0, 0.9), (1, 1, 0.9))]
    (row,) = benchmark_quality.summarize(runs)
    assert row["auroc"]["mean"] == pytest.approx(0.8)  # seed means 0.7 and 0.9
    assert row["auroc"]["std"] == pytest.approx(0.1)
    assert row["classes"] == [0, 1] and row["train_minutes"] == pytest.approx(1.0)


def test_quality_benchmark_rejects_unknown_names():
    import benchmark_quality
    with pytest.raises(SystemExit, match="unknown model \\['dcgan'\\]; known: gan, wgan_gp"):
        benchmark_quality.parse_args(["--models=gan,dcgan"])


@pytest.mark.slow
def test_contamination_benchmark_quick_records_rejection_quality_and_resumes(tmp_path):
    import benchmark_contamination
    out = tmp_path / "contamination.json"
    args = ["--quick", "--suites=synthetic", "--models=aegan", "--robust=trim,reject",
            "--baselines=isolation_forest", "--contamination=0,0.2", "--seeds=0",
            f"--output={out}"]
    benchmark_contamination.main(args)
    runs = json.loads(out.read_text())["runs"]
    assert {(r["method"], r["contamination"]) for r in runs} == {
        (m, c) for m in ("aegan/plain", "aegan/trim", "aegan/reject", "isolation_forest")
        for c in (0.0, 0.2)}
    for r in runs:
        assert 0.0 <= r["auroc"] <= 1.0 and 0.0 <= r["auprc"] <= 1.0
        assert (r["injected"] > 0) == (r["contamination"] > 0)
    # Every method of a level trained on the same contaminated split.
    assert len({(r["contamination"], r["injected"]) for r in runs}) == 2
    robust = [r for r in runs if r["method"] in ("aegan/trim", "aegan/reject")
              and r["contamination"] == 0.2]
    assert all(r["left_out"] > 0 and r["rejection_precision"] > 0.2 for r in robust)
    assert "rejection precision / recall" in (tmp_path / "contamination.md").read_text()
    assert (tmp_path / "contamination.png").stat().st_size > 0
    benchmark_contamination.main(args)  # every run is done: nothing is added
    assert len(json.loads(out.read_text())["runs"]) == len(runs)


@pytest.mark.slow
def test_search_benchmark_quick_without_the_peer(tmp_path):
    out = tmp_path / "search.json"
    result = run_script("benchmark_search.py", "--quick", "--no_peer",  # batches 1 and 8
                        f"--output={out}")
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(out.read_text())
    kinds = {(r["kind"], r["eps"], r["batch"]) for r in data["rows"]}
    assert {("tfgad", 0.0, 8), ("tfgad_xla_on", 0.0, 8), ("tfgad_no_compaction", 0.05, 8),
            ("loop", 0.05, 1), ("restarts_halving", 0.0, 8)} <= kinds
    assert data["executed_filter_gradient_kernels"] == 0  # the runtime prunes them
    # Hand count for configs/anogan.py at latent 5, length 128 (filters 128, 64, 32, 16):
    # dense 5*16*128, transposed convs 5*128*64*16 + 5*64*32*32 + 5*32*16*64, conv 5*16*1*128.
    macs = 5 * 16 * 128 + 5 * 128 * 64 * 16 + 5 * 64 * 32 * 32 + 5 * 32 * 16 * 64 + 5 * 16 * 128
    assert data["step_flops_per_sample"] == 4 * macs
    assert 0 < data["rows"][0]["share_of_peak"] < 1
    # The op-time profile of the default search: op types, shares of the whole, largest first.
    profile = data["profile"]
    assert data["profile_batch"] == 8 and profile
    assert all(0 < p["share"] <= 1 and p["ms"] > 0 for p in profile)
    assert [p["ms"] for p in profile] == sorted((p["ms"] for p in profile), reverse=True)
    assert sum(p["share"] for p in profile) <= 1 + 1e-9
    assert "| op | ms | share |" in (tmp_path / "search.md").read_text()


def test_torch_copy_of_the_generator_computes_the_same():
    torch = pytest.importorskip("torch")  # the [bench] extra
    import tensorflow as tf

    import torch_peer
    from tfgad.models import networks
    for length in (128, 45):  # 45: the generator crops 48 to 45
        generator = networks.build_generator((length, 1), 5, base_filters=8, num_blocks=3)
        z = tf.random.stateless_normal([4, 5], seed=[1, 1]).numpy()
        with torch.no_grad():
            got = torch_peer.TorchGenerator(generator)(torch.from_numpy(z)).numpy()
        np.testing.assert_allclose(got, generator(z, training=False).numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_time_to_quality_benchmark_scores_every_variant_on_one_model(tmp_path):
    import benchmark_time_to_quality
    out = tmp_path / "ttq.json"
    benchmark_time_to_quality.main(["--quick", "--configs=anogan", "--suites=synthetic",
                                    "--budgets=0,25", "--random_default=10", "--repeats=1",
                                    f"--output={out}"])
    rows = json.loads(out.read_text())["rows"]
    assert [r["variant"] for r in rows] == ["random@10", "random@10+stop", "random@25",
                                            "amortized@0", "amortized@25",
                                            "amortized@val(0,25)", "amortized[samples]@25"]
    by = {r["variant"]: r for r in rows}
    assert by["amortized@0"]["mean_steps"] == 0 and by["random@25"]["mean_steps"] == 25
    assert by["random@10+stop"]["mean_steps"] <= 10
    assert [r["inverse_fit"] for r in rows].count("samples") == 1
    assert by["amortized@val(0,25)"]["n_max"] in (0, 25)  # chosen on validation
    assert all(0 <= r["auroc"] <= 1 and r["ms_per_sample"] > 0 for r in rows)
    assert len({r["train_seconds"] for r in rows}) == 1  # one trained model for all
    table = (tmp_path / "ttq.md").read_text()
    assert "| anogan | synthetic | random@10 |" in table and "1.0x" in table
    assert (tmp_path / "ttq.png").stat().st_size > 1000


@pytest.mark.slow
def test_training_benchmark_quick_races_the_same_networks_against_the_peer(tmp_path):
    pytest.importorskip("torch")  # the [bench] extra
    out = tmp_path / "training.json"
    result = run_script("benchmark_training.py", "--quick", f"--output={out}")
    assert result.returncode == 0, result.stderr[-2000:]
    (row,) = json.loads(out.read_text())["rows"]
    assert row["family"] == "gan" and row["batch_size"] == 8
    assert set(row["samples_per_second"]) == {"tfgad", "tfgad_xla", "tfgad_pipeline", "torch"}
    assert all(v > 0 for v in row["samples_per_second"].values())
    assert row["parameters"]["generator"] > 0 and 0 <= row["input_wait_share"] < 1
    assert "| gan | 8 |" in (tmp_path / "training.md").read_text()


def test_no_label_verdicts_count_a_negatives_calibrated_recipe_as_one_class():
    import types

    import benchmark_quality
    recipe = types.SimpleNamespace(OVERRIDES={"detection.one_class": "negatives"})
    assert benchmark_quality.negatives_calibrated(recipe)
    assert not benchmark_quality.negatives_calibrated(types.SimpleNamespace(OVERRIDES={}))
    row = lambda method, auroc: {"method": method, "auroc": {"mean": auroc}}  # noqa: E731
    rows = [row("recipe:x/boosted", 0.9), row("aegan/weighted", 0.8), row("conv_ae", 0.85)]
    (line, _) = benchmark_quality.verdicts(rows, labelled=False)
    assert line.startswith("- without labels: best GAN `recipe:x/boosted` AUROC 0.900")
    assert "GAN leads by 0.050" in line


@pytest.mark.slow
def test_training_curve_scores_checkpoints_without_touching_the_training(tmp_path):
    import keras

    import benchmark_training_curve as curve
    from tfgad import config_files, data, models, priors
    from tfgad.data import rhythm
    # A checkpoint finishes a copy (generator average, inverse fit) and puts every weight back.
    config = config_files.load("test")
    config.model.inverse, config.model.inverse_steps, config.train.ema_momentum = True, 5, 0.9
    splits, norm = data.load_splits(config)
    model = models.build(config, splits["train"].x.shape[1:], priors.from_config(config))
    model.fit(splits["train"].x[:64], epochs=1, batch_size=32, verbose=0)
    before = [v.numpy().copy() for v in model.weights]
    evaluate = curve.finished_copy_evaluator(config, norm, splits,
                                             rhythm.signal_part(splits["train"].x, 0))
    scored = evaluate(model)
    assert set(scored) == {"auroc", "auprc", "f1", "mcc"} and 0 <= scored["auroc"] <= 1
    assert all(np.array_equal(b, v.numpy()) for b, v in zip(before, model.weights))
    keras.backend.clear_session()

    out = tmp_path / "curve.json"
    curve.main(["--quick", "--runs=quickstart,families", "--variants=plain,ema",
                "--families=aegan", f"--output={out}"])
    result = json.loads(out.read_text())
    assert [(c["run"], c["variant"]) for c in result["curves"]] == [
        ("quickstart", "plain"), ("quickstart", "ema"), ("families", "plain")]
    for c in result["curves"]:
        assert [r["epoch"] for r in c["rows"]] == [1, 2]
        seconds = [r["train_seconds"] for r in c["rows"]]
        assert 0 < seconds[0] < seconds[1] and all(0 <= r["auroc"] <= 1 for r in c["rows"])
    table = (tmp_path / "curve.md").read_text()
    assert "| quickstart | ema | 0 | 2 |" in table and "| aegan (aegan/svm) |" in table
    with pytest.raises(SystemExit, match="unknown variant"):
        curve.main(["--variants=swa"])
