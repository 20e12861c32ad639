"""Downloads the MIT-BIH Arrhythmia Database with wfdb (needs internet).

Usage: python scripts/download_mitbih.py --dir data/mitdb
Then:  python -m tfgad.main --config=configs/anogan.py --config.data.name=mitbih --config.data.dir=data/mitdb
"""
import argparse
import os


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="data/mitdb", help="where to put the records")
    args = parser.parse_args()
    import wfdb
    os.makedirs(args.dir, exist_ok=True)
    wfdb.dl_database("mitdb", args.dir)
    count = len([f for f in os.listdir(args.dir) if f.endswith(".hea")])
    print(f"{count} records in {args.dir}")


if __name__ == "__main__":
    main()
