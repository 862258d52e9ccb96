"""The frozen ``pathscaat-gui`` program (PyInstaller runs this file as its script)."""

import sys

from ui.app import main

if __name__ == "__main__":
    sys.exit(main())
