"""The `tfgad` command: one entry point for the python -m forms.

    tfgad train  --config=anogan [--workdir=DIR] [--config.a.b=value ...]
    tfgad detect --workdir=DIR      tfgad export --workdir=DIR
    tfgad score  --model=saved_models/NAME --input=FILE_OR_FOLDER --output=DIR
    tfgad serve  --model_base_path=saved_models/NAME --model_name=NAME
    tfgad download mitbih [--dir=data/mitdb]

`train` is `python -m tfgad.main` (train, score, calibrate, export: --mode=all unless --mode is
given); `detect` and `export` are its --mode=detect and --mode=export.
"""
import os
import sys

from tfgad import config_files

# command -> (what it does, the module whose main runs it, arguments put in front of the user's)
COMMANDS = {
    "train": ("train, score validation and test, calibrate, export (python -m tfgad.main)",
              "tfgad.main", []),
    "detect": ("rescore a trained --workdir (python -m tfgad.main --mode=detect)",
               "tfgad.main", ["--mode=detect"]),
    "export": ("export a trained --workdir as a SavedModel (python -m tfgad.main --mode=export)",
               "tfgad.main", ["--mode=export"]),
    "score": ("score new records, arrays or images with an export (python -m tfgad.score)",
              "tfgad.score", []),
    "serve": ("serve exports over REST and gRPC like TF Serving (python -m tfgad.serving)",
              "tfgad.serving.__main__", []),
    "download": ("download a public dataset: tfgad download mitbih [--dir=data/mitdb]",
                 "tfgad.download", []),
}


def usage() -> str:
    lines = ["usage: tfgad COMMAND [ARGS]   (tfgad COMMAND --help for its arguments)", "",
             "commands:"]
    lines += [f"  {name:<7} {text}" for name, (text, _, _) in COMMANDS.items()]
    lines += ["", "configs shipped with tfgad (--config=NAME, or a path to your own file):",
              "  " + ", ".join(config_files.known())]
    return "\n".join(lines)


def _print_or_quit(text: str) -> None:
    """print, where a reader that has had enough (tfgad --help | head) ends it quietly."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        sys.exit(0)


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        _print_or_quit(usage())
        sys.exit(0 if argv else 2)
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"error: unknown command {command!r}; commands: {', '.join(COMMANDS)}",
              file=sys.stderr)
        sys.exit(2)
    _, module_name, preset = COMMANDS[command]
    if command in ("detect", "export") and any(a.startswith("--mode") for a in rest):
        print(f"error: tfgad {command} sets --mode itself; use tfgad train --mode=... for "
              "another mode", file=sys.stderr)
        sys.exit(2)
    program = f"tfgad {command}"
    if module_name in ("tfgad.score", "tfgad.download"):  # argparse commands: their own help
        import importlib
        sys.argv = [program, *rest]
        importlib.import_module(module_name).main(rest, program)
        return
    if {"-h", "--help", "--helpshort"} & set(rest):
        # absl's --help lists the flags of sys.argv[0]'s module, which here is this one.
        import importlib
        from absl import flags
        importlib.import_module(module_name)
        _print_or_quit(f"usage: {program} [flags]\n\n{COMMANDS[command][0]}\n\n"
                       f"{flags.FLAGS.module_help(module_name)}")
        sys.exit(0)
    if module_name == "tfgad.main":
        from absl import app
        from tfgad import main as main_module
        sys.argv = [program, *preset, *rest]
        app.run(main_module.main, argv=sys.argv, flags_parser=main_module.parse_flags)
    else:
        from absl import app
        from tfgad.serving import __main__ as serve
        sys.argv = [program, *rest]
        app.run(serve.main, argv=sys.argv)


if __name__ == "__main__":
    main()
