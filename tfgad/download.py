"""tfgad download mitbih [--dir=data/mitdb]: fetches a public dataset with its maintainers'
reader (wfdb for PhysioNet's MIT-BIH Arrhythmia Database), into the folder every example uses.
Needs internet; nothing else in tfgad downloads anything."""
import argparse
import os
import sys

DATASETS = {"mitbih": ("mitdb", os.path.join("data", "mitdb"),
                       "MIT-BIH Arrhythmia Database, 48 records (PhysioNet, about 100 MB)")}


def main(argv=None, prog: str = "tfgad download") -> None:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="; ".join(f"{k}: {v[2]}" for k, v in DATASETS.items()))
    parser.add_argument("--dir", help="where to put it (default: data/mitdb for mitbih)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.dataset not in DATASETS:
        parser.error(f"unknown dataset {args.dataset!r}; known: {', '.join(DATASETS)}")
    database, default_dir, _ = DATASETS[args.dataset]
    folder = args.dir or default_dir
    import wfdb
    os.makedirs(folder, exist_ok=True)
    try:
        wfdb.dl_database(database, folder)
    except Exception as e:  # no network, a proxy, PhysioNet down: one line, not a traceback
        print(f"error: cannot download {database} into {folder}: {type(e).__name__}: "
              f"{str(e).splitlines()[0] if str(e) else ''}; check the internet connection",
              file=sys.stderr)
        sys.exit(2)
    count = len([f for f in os.listdir(folder) if f.endswith(".hea")])
    print(f"{count} records in {folder}; use them with --config.data.dir={folder}")


if __name__ == "__main__":
    main()
