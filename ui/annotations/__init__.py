"""The app's annotation part: the layer that draws a collection, the tools that edit it,
and the classes and annotations panels. The objects and their edits live in the core
(:mod:`pathscaat.annotations`); nothing here owns annotation state.
"""
