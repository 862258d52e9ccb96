"""The frozen ``pathscaat`` console program (PyInstaller runs this file as its script)."""

import sys

from pathscaat.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
