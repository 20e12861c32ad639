"""Downloads the MIT-BIH Arrhythmia Database with wfdb (needs internet): `tfgad download mitbih`.

Usage: python scripts/download_mitbih.py [--dir data/mitdb]
"""
import sys

from tfgad import download

if __name__ == "__main__":
    download.main(["mitbih", *sys.argv[1:]], "python scripts/download_mitbih.py")
