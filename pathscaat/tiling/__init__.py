"""pathscaat.tiling"""
