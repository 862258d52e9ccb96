"""PathSCAAT core: slides, tiling, SCAAT training, saliency and slide inference.

The core never imports Qt, pyqtgraph or the ``ui`` package; the desktop app and the
command line are two faces over it.
"""

__version__ = "0.1.0"
