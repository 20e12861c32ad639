"""Running `python -m tfgad.main` from tests: in a real process (exit code, stderr, no traceback as
a user sees them), or in this process, which skips TensorFlow's import of a few seconds a case."""
import contextlib
import dataclasses
import io
import os
import subprocess
import sys

from tests.conftest import ROOT


def run_main(*args, timeout=300, cwd=ROOT):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "tfgad.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@dataclasses.dataclass
class Completed:
    """What subprocess.run returns, as far as the tests read it."""
    returncode: int
    stdout: str
    stderr: str


def run_main_in_process(*args) -> Completed:
    """tfgad.main's parse_flags and main on args, as `python -m tfgad.main ARGS` runs them.

    ml_collections reads sys.argv to define the --config.* override flags, once per parse, so
    sys.argv is set and the previous run's override flags are removed first.
    """
    from absl import flags, logging
    from tfgad import main
    values = flags.FLAGS
    for name in [n for n in values if n.startswith("config.")]:
        delattr(values, name)
    values.unparse_flags()
    argv, saved_argv = ["tfgad.main", *args], sys.argv
    verbosity = logging.get_verbosity()
    out, err, code = io.StringIO(), io.StringIO(), 0
    sys.argv = argv
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main.main(main.parse_flags(argv))
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    finally:
        sys.argv = saved_argv
        logging.set_verbosity(verbosity)
        values.unparse_flags()
    return Completed(code, out.getvalue(), err.getvalue())
