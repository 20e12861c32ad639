"""Command line: python -m tfgad.main --config=configs/anogan.py [--workdir=...] [--mode=all]."""
import json
import os
import sys
import time

import tfgad  # noqa: F401  (sets TF log level and Keras backend before TF is imported)
from absl import app, flags, logging
from ml_collections import config_dict, config_flags

from tfgad import config_files, sections
from tfgad.errors import UserError

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
    "config", None, "A shipped config's name (" + ", ".join(config_files.known()) + ") or a config file's path; "
    "fields can be overridden with --config.a.b=value. In --mode=detect it defaults to the "
    "workdir's config.json.")
flags.DEFINE_string("workdir", None, "Output folder; default: a new folder under runs/.")
flags.DEFINE_enum("mode", "all", ["train", "detect", "export", "all"],
                  "What to run; all = train, detect, export.")
flags.DEFINE_string("print_config", None, "Print the resolved config (after --config.* "
                    "overrides), each field with its meaning where default.py gives one, and "
                    "exit: 'all', or a section (train, search, detection, ...).")


def _config_from_workdir(workdir):
    path = os.path.join(workdir or "", "config.json")
    if not workdir or not os.path.exists(path):
        raise UserError(f"--mode=detect or export without --config needs a trained --workdir holding "
                        f"config.json; {path!r} does not exist")
    with open(path) as f:
        return config_dict.ConfigDict(sections.upgrade(json.load(f)))


def _overridden_fields(argv: list) -> list[str]:
    """The dotted fields that --config.a.b=value (or --config.a.b value) arguments set."""
    return [a[len("--config."):].split("=", 1)[0] for a in argv[1:] if a.startswith("--config.")]


def _one_line(error):
    """ml_collections puts a repr with newlines in its messages; make them one readable line."""
    text = str(error)
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    text = text.replace("\\n", " ").replace("\n", " ").replace("\\'", "'")
    return " ".join(text.split())


def _override_error(argv, error):
    """One line for a failed --config.* override: the unknown field with the section's
    fields, or ml_collections' own message for other problems (e.g. a bad type)."""
    overrides = [a.split("=", 1)[0][len("--config."):] for a in argv[1:] if a.startswith("--config.")]
    path = next((a.split("=", 1)[1] for a in argv[1:] if a.startswith("--config=")), None)
    if path:
        try:
            config = config_files.load(path)
            for dotted in overrides:
                message = config_files.unknown_field(config, dotted)
                if message:
                    return message
        except Exception:  # the config itself is broken: fall back to the original message
            pass
    return f"invalid config override --config.{' --config.'.join(overrides)}: {_one_line(error)}"


def parse_flags(argv: list) -> list:
    """absl's parsing, with config override errors (misspelt field, bad type) as one line."""
    try:
        argv = config_files.resolve_argv(argv)
    except UserError as e:  # ml_collections would load a missing file late, with a traceback
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    path = next((a.split("=", 1)[1] for a in argv[1:] if a.startswith("--config=")), None)
    try:
        return FLAGS(argv)
    except flags.Error as e:
        print(f"error: {_one_line(e)}", file=sys.stderr)
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        print(f"error: {_override_error(argv, e)}", file=sys.stderr)
    except Exception as e:  # the config file itself fails to run (syntax, imports, ...)
        print(f"error: cannot load --config={path}: {type(e).__name__}: {_one_line(e)}",
              file=sys.stderr)
    sys.exit(2)


def main(argv: list) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if FLAGS.print_config:
        try:
            print(config_files.describe(FLAGS.config, FLAGS.print_config))
        except UserError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(2)
        return
    from tfgad import run  # heavy imports after flag parsing, so --help is fast
    logging.set_verbosity(logging.INFO)
    # tfgad's own progress at INFO, TensorFlow's Python INFO lines not: a multi-worker run
    # would log one "Collective all_reduce tensors" line per step and worker.
    import logging as python_logging
    python_logging.getLogger("tensorflow").setLevel(python_logging.WARNING)
    try:
        try:
            config = FLAGS.config
        except OSError as e:  # ml_collections could not execute the config file
            raise UserError(f"cannot load the config file: {_one_line(e)}") from None
        if config is None:
            if FLAGS.mode not in ("detect", "export"):
                raise UserError("--config is required, e.g. --config=anogan (a shipped config) or "
                                "--config=path/to/my_config.py")
            config = _config_from_workdir(FLAGS.workdir)
        workdir = FLAGS.workdir or os.path.join(
            "runs", f"{config.model.name}-{config.data.name}-{time.strftime('%Y%m%d-%H%M%S')}")
        result = run.train_and_evaluate(config, workdir, FLAGS.mode, _overridden_fields(sys.argv))
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    if result and "export_path" in result:
        print(f"SavedModel in {result['export_path']}")
    if result and "test" in result:
        test = result["test"]
        print(f"test AUROC {test['auroc']:.4f}  AUPRC {test['auprc']:.4f}  F1 {test['f1']:.4f}  "
              f"MCC {test['mcc']:.4f}  ({result['splits']['test']['samples']} samples)")
    print(f"outputs in {workdir}")


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
